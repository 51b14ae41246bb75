package cmd

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

func newGroupsCmd(f *Factory) *cobra.Command {
	c := group("groups", "Organise profiles into groups",
		newGroupsListCmd(f),
		newGroupsShowCmd(f),
		newGroupsCreateCmd(f),
		newGroupsDeleteCmd(f),
		newGroupsMemberCmd(f, true),
		newGroupsMemberCmd(f, false),
	)
	c.Aliases = []string{"group", "g"}
	return c
}

func newGroupsListCmd(f *Factory) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List groups with their members' health",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			m, err := f.Manager()
			if err != nil {
				return err
			}
			gs, err := m.Groups(c.Context())
			if err != nil {
				return err
			}
			if ok, err := printData(f.IO.Out, format, gs); ok {
				return err
			}
			if len(gs) == 0 {
				fmt.Fprintln(f.IO.ErrOut, "No groups yet. Create one with `sbctl groups create <name>`.")
				return nil
			}
			rows := make([][]string, len(gs))
			for i, g := range gs {
				rows[i] = []string{g.Name, fmt.Sprint(len(g.Profiles)), healthSummary(g.Statuses), orDash(g.Description)}
			}
			return renderTable(f.IO.ColorOut(), f.IO.OutTTY, []string{"NAME", "PROFILES", "HEALTH", "DESCRIPTION"}, rows, nil)
		},
	}
	addFormatFlag(c, &format)
	return c
}

// healthSummary is "2 ok, 1 expired" in the worst-first order of statuses.
func healthSummary(counts map[profiles.Status]int) string {
	var parts []string
	for _, s := range profiles.Statuses {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func newGroupsShowCmd(f *Factory) *cobra.Command {
	o := &listOptions{}
	c := &cobra.Command{
		Use:               "show <group>",
		Short:             "List a group's profiles (like profiles list --group)",
		Args:              exactArgs(1, "one group name"),
		ValidArgsFunction: completeGroups(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Group = args[0]
			m, err := f.Manager()
			if err != nil {
				return err
			}
			g, err := m.Group(o.Group)
			if err != nil {
				return err
			}
			if o.Format == formatTable && g.Description != "" {
				fmt.Fprintf(f.IO.ErrOut, "%s: %s\n", g.Name, g.Description)
			}
			return runList(c, f, o)
		},
	}
	addFormatFlag(c, &o.Format)
	return c
}

func newGroupsCreateCmd(f *Factory) *cobra.Command {
	var desc string
	c := &cobra.Command{
		Use:   "create <group>",
		Short: "Create a group",
		Args:  exactArgs(1, "one group name"),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := f.Manager()
			if err != nil {
				return err
			}
			if err := m.CreateGroup(c.Context(), args[0], desc); err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Created group %q. Add profiles with `sbctl groups add %s <profile>...`.\n", args[0], args[0])
			return nil
		},
	}
	c.Flags().StringVarP(&desc, "description", "d", "", "what the group is for")
	return c
}

func newGroupsDeleteCmd(f *Factory) *cobra.Command {
	c := &cobra.Command{
		Use:               "delete <group>",
		Short:             "Delete a group (its profiles stay)",
		Args:              exactArgs(1, "one group name"),
		ValidArgsFunction: completeGroups(f),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := f.Manager()
			if err != nil {
				return err
			}
			members, err := m.DeleteGroup(c.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.ErrOut, "Deleted group %q", args[0])
			if len(members) > 0 {
				fmt.Fprintf(f.IO.ErrOut, " (its %d profiles stay: %s)", len(members), strings.Join(members, ", "))
			}
			fmt.Fprintln(f.IO.ErrOut, ".")
			return nil
		},
	}
	return c
}

func newGroupsMemberCmd(f *Factory, add bool) *cobra.Command {
	use, short := "add <group> <profile>...", "Add profiles to a group"
	if !add {
		use, short = "remove <group> <profile>...", "Take profiles out of a group"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  minArgs(2, "a group and at least one profile"),
		ValidArgsFunction: func(c *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 0 {
				return completeGroups(f)(c, args, prefix)
			}
			return completeProfiles(f)(c, args, prefix)
		},
		RunE: func(c *cobra.Command, args []string) error {
			m, err := f.Manager()
			if err != nil {
				return err
			}
			var changed []string
			if add {
				changed, err = m.AddToGroup(c.Context(), args[0], args[1:])
			} else {
				changed, err = m.RemoveFromGroup(c.Context(), args[0], args[1:])
			}
			if err != nil {
				return err
			}
			verb := "Added to"
			if !add {
				verb = "Removed from"
			}
			if len(changed) == 0 {
				fmt.Fprintf(f.IO.ErrOut, "Nothing to change in group %q.\n", args[0])
				return nil
			}
			fmt.Fprintf(f.IO.ErrOut, "%s group %q: %s.\n", verb, args[0], strings.Join(changed, ", "))
			return nil
		},
	}
	if !add {
		c.Aliases = []string{"rm"}
	}
	return c
}
