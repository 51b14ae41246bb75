package profiles

import "context"

// In team mode every stored token leaves an event in the team's audit log
// (`sbctl team log`), written in the same transaction as the token so the
// event exists exactly when the token does. What the write was for (a
// connect, a re-authentication, a refresh) is known to the operation, not
// to the store: it travels in the context.

type auditKey struct{}

type auditNote struct{ action, detail string }

// Audit actions, as `team log` shows them.
const (
	auditConnect       = "connect"
	auditReauth        = "reauth"
	auditRefresh       = "refresh"
	auditRefreshFailed = "refresh-failed"
	auditRecover       = "recover"
)

// withAudit says what the token writes made under ctx are for.
func withAudit(ctx context.Context, action, detail string) context.Context {
	return context.WithValue(ctx, auditKey{}, auditNote{action, detail})
}

// auditOf is the action and detail set by withAudit ("token", "" when
// none was).
func auditOf(ctx context.Context) (action, detail string) {
	if n, ok := ctx.Value(auditKey{}).(auditNote); ok {
		return n.action, n.detail
	}
	return "token", ""
}

// audit logs an event that stores nothing (a refresh the network
// refused); a no-op outside team mode and best effort in it.
func (m *Manager) audit(ctx context.Context, action, profile, detail string) {
	if m.backend != nil && m.backend.audit != nil {
		_ = m.backend.audit(ctx, action, profile, detail)
	}
}
