-- Schema 1 of a team database. Applied by team init (after it creates the
-- team's four group roles and the schema sbctl owned by the owner group)
-- while SET ROLE to the owner group, so every object belongs to that NOLOGIN
-- role: its members — the team's owners — own the tables and so bypass
-- row-level security; everyone else goes through the grants and policies
-- below. {{owner}}, {{admin}}, {{member}} and {{viewer}} are replaced by the
-- team's quoted role names.
--
-- Who is who: policies use session_user (the login), never current_user, so
-- a member cannot widen what it sees by SET ROLE to its group role.
--
-- Secrets (tokens.ciphertext, client_secrets.ciphertext) are AEAD
-- ciphertexts made by the clients under the team key: the database never
-- sees a plaintext.

CREATE TABLE sbctl.schema_migrations (
  version    int PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now(),
  applied_by text NOT NULL DEFAULT session_user
);

CREATE TABLE sbctl.team (
  id              uuid PRIMARY KEY,
  only_one        boolean NOT NULL DEFAULT true UNIQUE CHECK (only_one),
  role_prefix     text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  created_by      text NOT NULL DEFAULT session_user,
  key_fingerprint text NOT NULL,
  key_id          int NOT NULL DEFAULT 1,
  catalog_version bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE sbctl.team IS 'sbctl: this database''s team (one row); catalog_version moves on every catalog change';

-- Which groups a member or viewer login may see. No row for a login: all
-- groups.
CREATE TABLE sbctl.member_groups (
  login      text NOT NULL,
  group_name text NOT NULL,
  PRIMARY KEY (login, group_name)
);

CREATE TABLE sbctl.providers (
  name     text PRIMARY KEY,
  yaml     text NOT NULL,
  position int NOT NULL DEFAULT 0
);

CREATE TABLE sbctl.groups (
  name        text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  position    int NOT NULL DEFAULT 0
);

-- id is what NOTIFY carries, so a LISTEN under any login learns nothing
-- about profiles it may not see.
CREATE TABLE sbctl.profiles (
  name     text PRIMARY KEY,
  id       bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  provider text NOT NULL,
  groups   text[] NOT NULL DEFAULT '{}',
  scopes   text[] NOT NULL DEFAULT '{}',
  position int NOT NULL DEFAULT 0
);
CREATE INDEX profiles_provider ON sbctl.profiles (provider);

CREATE TABLE sbctl.tokens (
  profile    text PRIMARY KEY REFERENCES sbctl.profiles (name) ON DELETE CASCADE,
  ciphertext bytea NOT NULL,
  key_id     int NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT session_user
);

CREATE TABLE sbctl.client_secrets (
  provider   text PRIMARY KEY REFERENCES sbctl.providers (name) ON DELETE CASCADE,
  ciphertext bytea NOT NULL,
  key_id     int NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT session_user
);

CREATE TABLE sbctl.state (
  profile    text PRIMARY KEY REFERENCES sbctl.profiles (name) ON DELETE CASCADE,
  record     jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT session_user
);

-- The crash marker of a rotating renewal: who, from where, since when.
CREATE TABLE sbctl.renewals (
  profile        text PRIMARY KEY REFERENCES sbctl.profiles (name) ON DELETE CASCADE,
  started_by     text NOT NULL DEFAULT session_user,
  host           text NOT NULL DEFAULT '',
  pid            int NOT NULL DEFAULT 0,
  started_at     timestamptz NOT NULL DEFAULT now(),
  refresh_sha256 text NOT NULL DEFAULT '',
  note           text NOT NULL DEFAULT ''
);

CREATE TABLE sbctl.audit (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  db_user text NOT NULL DEFAULT session_user,
  host    text NOT NULL DEFAULT '',
  action  text NOT NULL,
  profile text NOT NULL DEFAULT '',
  detail  text NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON sbctl.audit (at);
CREATE INDEX audit_profile ON sbctl.audit (profile, at);

-- Who wrote a row and when is the database's word, not the writer's: these
-- triggers overwrite whatever an INSERT or UPDATE said.
CREATE FUNCTION sbctl.stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  NEW.updated_by := session_user;
  RETURN NEW;
END $$;
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON sbctl.tokens FOR EACH ROW EXECUTE FUNCTION sbctl.stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON sbctl.client_secrets FOR EACH ROW EXECUTE FUNCTION sbctl.stamp();
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON sbctl.state FOR EACH ROW EXECUTE FUNCTION sbctl.stamp();

CREATE FUNCTION sbctl.stamp_renewal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.started_by := session_user;
  RETURN NEW;
END $$;
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON sbctl.renewals FOR EACH ROW EXECUTE FUNCTION sbctl.stamp_renewal();

CREATE FUNCTION sbctl.stamp_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.db_user := session_user;
  NEW.at := clock_timestamp();
  RETURN NEW;
END $$;
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON sbctl.audit FOR EACH ROW EXECUTE FUNCTION sbctl.stamp_audit();

-- Privileges. Any login may see whether a team exists and its schema
-- version (Open checks it); nothing else without a team role.
GRANT USAGE ON SCHEMA sbctl TO PUBLIC;
GRANT SELECT ON sbctl.schema_migrations, sbctl.team TO PUBLIC;
GRANT SELECT ON sbctl.member_groups TO {{admin}}, {{member}}, {{viewer}};

-- admin: the catalog, every token and client secret, status, markers.
GRANT UPDATE (catalog_version) ON sbctl.team TO {{admin}};
GRANT SELECT, INSERT, UPDATE, DELETE ON sbctl.providers, sbctl.groups, sbctl.profiles,
  sbctl.tokens, sbctl.client_secrets, sbctl.state, sbctl.renewals TO {{admin}};
GRANT SELECT, INSERT (host, action, profile, detail) ON sbctl.audit TO {{admin}}, {{member}};

-- member: read the catalog, read tokens and client secrets, refresh (UPDATE
-- an existing token, never INSERT one: connecting is re-authenticating),
-- write status and markers; all of it only for the rows the policies show.
GRANT SELECT ON sbctl.providers, sbctl.groups, sbctl.profiles TO {{member}}, {{viewer}};
GRANT SELECT, UPDATE (ciphertext, key_id) ON sbctl.tokens TO {{member}};
GRANT SELECT ON sbctl.client_secrets TO {{member}};
GRANT SELECT, INSERT, UPDATE ON sbctl.state TO {{member}};
GRANT SELECT, INSERT, UPDATE, DELETE ON sbctl.renewals TO {{member}};

-- viewer: status only. No privilege at all on tokens or client_secrets, and
-- not the hash of a refresh token in a marker.
GRANT SELECT ON sbctl.state, sbctl.audit TO {{viewer}};
GRANT SELECT (profile, started_by, host, pid, started_at, note) ON sbctl.renewals TO {{viewer}};

-- Row-level security. Owners own the tables and are not subject to it;
-- admins see every row; members and viewers see the profiles of their
-- groups (all profiles when they have no group grant), and the tokens,
-- status, markers, providers and audit of those profiles only.
ALTER TABLE sbctl.providers ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.client_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.state ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.renewals ENABLE ROW LEVEL SECURITY;
ALTER TABLE sbctl.audit ENABLE ROW LEVEL SECURITY;

CREATE POLICY admin_all ON sbctl.providers TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.groups TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.profiles TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.tokens TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.client_secrets TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.state TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.renewals TO {{admin}} USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON sbctl.audit TO {{admin}} USING (true) WITH CHECK (true);

-- The group test is written out (not a function) so the planner runs the
-- two uncorrelated sub-selects once per query, not once per row.
CREATE POLICY granted ON sbctl.profiles FOR SELECT TO {{member}}, {{viewer}} USING (
  NOT EXISTS (SELECT 1 FROM sbctl.member_groups m WHERE m.login = session_user)
  OR groups && ARRAY(SELECT m.group_name FROM sbctl.member_groups m WHERE m.login = session_user)
);
CREATE POLICY granted ON sbctl.groups FOR SELECT TO {{member}}, {{viewer}} USING (
  NOT EXISTS (SELECT 1 FROM sbctl.member_groups m WHERE m.login = session_user)
  OR name = ANY (ARRAY(SELECT m.group_name FROM sbctl.member_groups m WHERE m.login = session_user))
);
-- The sub-selects on profiles below are themselves filtered by the policy
-- above: "a profile I may see".
CREATE POLICY granted ON sbctl.providers FOR SELECT TO {{member}}, {{viewer}} USING (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.provider = providers.name)
);
CREATE POLICY granted ON sbctl.client_secrets FOR SELECT TO {{member}} USING (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.provider = client_secrets.provider)
);
CREATE POLICY granted ON sbctl.tokens FOR SELECT TO {{member}} USING (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = tokens.profile)
);
CREATE POLICY refresh ON sbctl.tokens FOR UPDATE TO {{member}}
  USING (EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = tokens.profile))
  WITH CHECK (EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = tokens.profile));
CREATE POLICY granted ON sbctl.state FOR SELECT TO {{member}}, {{viewer}} USING (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = state.profile)
);
CREATE POLICY write ON sbctl.state FOR INSERT TO {{member}} WITH CHECK (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = state.profile)
);
CREATE POLICY refresh ON sbctl.state FOR UPDATE TO {{member}}
  USING (EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = state.profile))
  WITH CHECK (EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = state.profile));
CREATE POLICY granted ON sbctl.renewals FOR SELECT TO {{member}}, {{viewer}} USING (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = renewals.profile)
);
CREATE POLICY write ON sbctl.renewals FOR INSERT TO {{member}} WITH CHECK (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = renewals.profile)
);
CREATE POLICY refresh ON sbctl.renewals FOR UPDATE TO {{member}}
  USING (EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = renewals.profile))
  WITH CHECK (EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = renewals.profile));
CREATE POLICY done ON sbctl.renewals FOR DELETE TO {{member}} USING (
  EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = renewals.profile)
);
CREATE POLICY granted ON sbctl.audit FOR SELECT TO {{member}}, {{viewer}} USING (
  profile = '' OR EXISTS (SELECT 1 FROM sbctl.profiles p WHERE p.name = audit.profile)
);
CREATE POLICY write ON sbctl.audit FOR INSERT TO {{member}} WITH CHECK (true);
