package profiles

import "github.com/sbctl/sbctl/auth"

// Action is what a person should do about a profile; the front ends
// phrase it (a command in the CLI, a key in the TUI).
type Action int

const (
	ActionNone            Action = iota
	ActionConnect                // never connected: reauth
	ActionReauth                 // dead: reauth now
	ActionRenew                  // ends soon, renewable: refresh (or reauth)
	ActionReauthBeforeEnd        // ends soon, not renewable: reauth before it ends
	ActionRecheck                // status unknown: ask the network again
)

// Action is what to do about the profile now.
func (v *View) Action() Action {
	switch v.Status {
	case StatusNotConnected:
		return ActionConnect
	case StatusExpired, StatusNeedsReauth:
		return ActionReauth
	case StatusExpiring:
		if v.Renewable {
			return ActionRenew
		}
		return ActionReauthBeforeEnd
	case StatusUnknown:
		return ActionRecheck
	}
	return ActionNone
}

// MayWork reports whether the profile's connection may still work (ok,
// expiring, or unknown): removing it would end something a reauth would
// have to rebuild.
func (v *View) MayWork() bool {
	return v.Status == StatusOK || v.Status == StatusExpiring || v.Status == StatusUnknown
}

// SignInHint is what the person must do differently when signing in again
// for this reason ("" when nothing).
func SignInHint(r auth.Reason) string {
	switch r {
	case auth.ReasonPasswordChanged:
		return "sign in with the account's new password"
	case auth.ReasonAccessRevoked:
		return "the app's access was removed in the network's settings; approve it again"
	}
	return ""
}
