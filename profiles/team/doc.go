// Package team is sbctl's team mode: one PostgreSQL database holds a
// team's providers, groups, profiles, encrypted tokens and client secrets,
// status records, renewal markers and audit log, shared by every member's
// sbctl. It talks to PostgreSQL (pgx) and nothing else; package profiles
// builds the domain on it.
//
// Roles and row-level security. team init (Init) creates four NOLOGIN
// group roles, sbctl_<id>_owner, _admin, _member and _viewer (<id>: the
// first 8 hex digits of the team's UUID, since roles are cluster-wide),
// and the schema sbctl, owned by the owner group; the caller — who needs
// CREATEROLE, not superuser, as the owner of a managed database has — is
// granted the owner group WITH ADMIN OPTION. Members are login roles
// granted exactly one group (owners WITH ADMIN OPTION, so they can add
// members). Owners own every table and so are not subject to row-level
// security: everything, including members and key rotation. Admins have
// every privilege on the catalog, tokens, client secrets, status and
// markers, and policies that show them every row. Members may read the
// catalog, read tokens and client secrets, UPDATE (never INSERT or
// DELETE) a token — a refresh, not a connect — and write status and
// markers; viewers may read the catalog, status and markers, and have no
// privilege at all on tokens and client secrets, nor on the hash column
// of a marker. For members and viewers, row-level security shows only
// the profiles carrying one of the groups in member_groups for their
// login (no row: all groups), and only those profiles' tokens, status,
// markers and audit events, the groups granted and the providers those
// profiles use. Policies ask session_user, so SET ROLE to the group role
// widens nothing; who wrote a row and when are set by triggers; the audit
// log's login column is not writable. So a hand-written query under a
// member's own login can do no more than sbctl lets it: the API's refusals
// are PostgreSQL's, turned into a *PermissionError that names the role.
//
// The database never sees a plaintext secret: callers seal tokens and
// client secrets under the team key (Key, crypto.go) bound to team, table,
// row and column (SecretAD), and store only the ciphertext. LISTEN/NOTIFY
// payloads carry profile ids, not names, so a listener learns only of the
// profiles it may see.
package team
