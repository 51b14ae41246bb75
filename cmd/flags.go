package cmd

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

// runWith ends every command's RunE: a test's runF receives the parsed
// options (to check flag parsing without running anything); otherwise
// the command's own run function does the work.
func runWith[O any](ctx context.Context, o *O, runF func(*O) error, run func(context.Context, *O) error) error {
	if runF != nil {
		return runF(o)
	}
	return run(ctx, o)
}

// durationFlag parses --expiring-within style values ("7d"), as the config
// writes durations.
type durationFlag struct{ d *time.Duration }

func (v durationFlag) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return profiles.FormatDuration(*v.d)
}

func (v durationFlag) Set(s string) error {
	d, err := profiles.ParseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func (durationFlag) Type() string { return "duration" }

// signInFlags are the mutually exclusive flags that choose how to sign in
// (`reauth`, `profiles add`); mode turns them into the domain's one
// SignInMode.
type signInFlags struct {
	noBrowser, device, manual bool
}

// mode is the one sign-in mode the flags chose (cobra refuses two).
func (s *signInFlags) mode() profiles.SignInMode {
	switch {
	case s.noBrowser:
		return profiles.SignInNoBrowser
	case s.manual:
		return profiles.SignInManual
	case s.device:
		return profiles.SignInDevice
	}
	return profiles.SignInDefault
}

// signInFlagNames are the flags addSignInFlags registers.
var signInFlagNames = []string{"no-browser", "device", "manual", "timeout"}

func addSignInFlags(c *cobra.Command, s *signInFlags, timeout *time.Duration) {
	c.Flags().BoolVar(&s.noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	c.Flags().BoolVar(&s.device, "device", false, "use the device flow (RFC 8628): sign in on another device with a code")
	c.Flags().BoolVar(&s.manual, "manual", false, "for SSH/headless: open the URL anywhere, then paste the address the browser ended on")
	c.Flags().Var(durationFlag{timeout}, "timeout", "give up after this long")
	c.MarkFlagsMutuallyExclusive("no-browser", "device", "manual")
}
