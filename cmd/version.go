package cmd

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set by the release build (-ldflags "-X ...cmd.version=v1.2.3");
// otherwise it comes from the module's build information.
var version = ""

// Version is sbctl's version string.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

type versionOptions struct {
	IO *IOStreams
}

func newVersionCmd(f *Factory, runF func(*versionOptions) error) *cobra.Command {
	o := &versionOptions{IO: f.IO}
	return &cobra.Command{
		Use:   "version",
		Short: "Print sbctl's version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return runWith(c.Context(), o, runF, runVersion)
		},
	}
}

func runVersion(_ context.Context, o *versionOptions) error {
	_, err := fmt.Fprintf(o.IO.Out, "sbctl %s (%s, %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}
