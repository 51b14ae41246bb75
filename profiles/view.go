package profiles

import (
	"time"

	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/config"
)

// View is one profile as `profiles list` and `show` present it. The JSON
// names are a contract (SPEC §4).
type View struct {
	Name                string      `json:"name" yaml:"name"`
	Provider            string      `json:"provider" yaml:"provider"`
	Groups              []string    `json:"groups" yaml:"groups"`
	Account             *string     `json:"account" yaml:"account"`
	AccountID           *string     `json:"account_id" yaml:"account_id"`
	Status              Status      `json:"status" yaml:"status"`
	Reason              *string     `json:"reason" yaml:"reason"`
	Detail              string      `json:"detail" yaml:"detail"`
	ExpiresAt           *time.Time  `json:"expires_at" yaml:"expires_at"`
	RefreshExpiresAt    *time.Time  `json:"refresh_expires_at" yaml:"refresh_expires_at"`
	ConnectionExpiresAt *time.Time  `json:"connection_expires_at" yaml:"connection_expires_at"`
	LastRefreshedAt     *time.Time  `json:"last_refreshed_at" yaml:"last_refreshed_at"`
	ConnectedAt         *time.Time  `json:"connected_at" yaml:"connected_at"`
	Renewable           bool        `json:"renewable" yaml:"renewable"`
	Scopes              []string    `json:"scopes" yaml:"scopes"`
	reason              auth.Reason `json:"-"`
}

// ReasonCode is the reason as a value ("" when none).
func (v *View) ReasonCode() auth.Reason { return v.reason }

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

func (m *Manager) view(p *config.Profile, rec *Record, now time.Time, window time.Duration) View {
	h := Evaluate(rec, now, window)
	v := View{
		Name: p.Name, Provider: p.Provider, Groups: p.Groups, Status: h.Status,
		Reason: strPtr(string(h.Reason)), Detail: h.Detail, reason: h.Reason, Scopes: p.Scopes,
	}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	if rec != nil {
		v.Account, v.AccountID = strPtr(rec.Account), strPtr(rec.AccountID)
		v.ExpiresAt, v.RefreshExpiresAt = utc(rec.ExpiresAt), utc(rec.RefreshExpiresAt)
		v.LastRefreshedAt, v.ConnectedAt = utc(rec.LastRefreshedAt), utc(rec.ConnectedAt)
		v.Renewable = rec.HasRefresh
		if len(rec.Scopes) > 0 {
			v.Scopes = cleanScopes(rec.Scopes)
		}
	}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !h.ConnectionExpiry.IsZero() {
		v.ConnectionExpiresAt = utc(&h.ConnectionExpiry)
	}
	return v
}

// cleanScopes keeps the granted scopes a network named fit to print
// (SECURITY 30): a scope is one plain word, so one that changes under the
// terminal-safe policy is dropped, not shown half-cleaned.
func cleanScopes(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if c := auth.CleanText(s, 200); c == s && c != "" {
			out = append(out, s)
		}
	}
	return out
}
