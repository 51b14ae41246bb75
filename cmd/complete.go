package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

type completeFunc = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective)

// completeNames completes from the config without failing the shell: a
// broken config completes nothing. The Manager is asked when the shell
// asks, so a test's (or a flag's) Manager is the one used.
func completeNames(f *Factory, list func(m *profiles.Manager) []string) completeFunc {
	return func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		m, err := f.Manager()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, n := range list(m) {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeProfiles(f *Factory) completeFunc {
	return completeNames(f, (*profiles.Manager).ProfileNames)
}

func completeGroups(f *Factory) completeFunc {
	return completeNames(f, (*profiles.Manager).GroupNames)
}

func completeProviders(f *Factory) completeFunc {
	return completeNames(f, (*profiles.Manager).ProviderNames)
}
