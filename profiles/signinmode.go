package profiles

import (
	"github.com/sbctl/sbctl/auth"
	"github.com/sbctl/sbctl/auth/provider"
)

// SignInModeOf tells which sign-in a Reauth of the profile with asked
// (ReauthOptions.Mode) will run, before it starts and without any I/O: a
// front end draws a paste field for manual mode and a code for device
// mode from the start, rather than guessing from the flow's printed lines.
//
// The answer is SignInManual (the person pastes the redirected address or
// the code), SignInDevice (a code to enter on any device), SignInNoBrowser
// (a URL to open some other way) or SignInDefault (a browser is opened:
// loopback or relay). It follows Reauth's own rule (flowMode): the
// config's `redirect:` over the preset's, and --manual keeps relay.
func (m *Manager) SignInModeOf(name string, asked SignInMode) (SignInMode, error) {
	if err := asked.Valid(); err != nil {
		return SignInDefault, err
	}
	p, err := m.Profile(name)
	if err != nil {
		return SignInDefault, err
	}
	cp, err := m.Provider(p.Provider)
	if err != nil {
		return SignInDefault, err
	}
	pr, _ := provider.Lookup(cp.Type)
	redirect := pr.Redirect
	if r, ok := auth.ParseRedirectMode(cp.Redirect); ok && pr.AllowsMode(r) {
		redirect = r
	}
	switch {
	case asked == SignInDevice || redirect == auth.RedirectDevice:
		return SignInDevice, nil
	case redirect == auth.RedirectManual || (asked == SignInManual && redirect != auth.RedirectRelay):
		return SignInManual, nil
	case asked == SignInNoBrowser:
		return SignInNoBrowser, nil
	}
	return SignInDefault, nil
}
