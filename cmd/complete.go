package cmd

import (
	"strings"

	"github.com/spf13/cobra"
)

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completeNames completes from the config without failing the shell: a
// broken config completes nothing.
func completeNames(f *Factory, list func(f *Factory) []string) completeFunc {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, n := range list(f) {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeProfiles(f *Factory) completeFunc {
	return completeNames(f, func(f *Factory) []string {
		m, err := f.Manager()
		if err != nil {
			return nil
		}
		return m.Config.ProfileNames()
	})
}

func completeGroups(f *Factory) completeFunc {
	return completeNames(f, func(f *Factory) []string {
		m, err := f.Manager()
		if err != nil {
			return nil
		}
		return m.Config.GroupNames()
	})
}

func completeProviders(f *Factory) completeFunc {
	return completeNames(f, func(f *Factory) []string {
		m, err := f.Manager()
		if err != nil {
			return nil
		}
		return m.Config.ProviderNames()
	})
}
