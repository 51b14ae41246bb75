package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sbctl/sbctl/profiles"
)

func newGroupsCmd(f *Factory) *cobra.Command {
	c := group("groups", "Organise profiles into groups",
		newGroupsListCmd(f, nil),
		newGroupsShowCmd(f, nil),
		newGroupsCreateCmd(f, nil),
		newGroupsDeleteCmd(f, nil),
		newGroupsMemberCmd(f, true, nil),
		newGroupsMemberCmd(f, false, nil),
	)
	c.Aliases = []string{"group", "g"}
	return c
}

type groupsListOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Format string
}

func newGroupsListCmd(f *Factory, runF func(*groupsListOptions) error) *cobra.Command {
	o := &groupsListOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List groups with their members' health",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := checkFormat(o.Format); err != nil {
				return err
			}
			return runWith(c.Context(), o, runF, runGroupsList)
		},
	}
	addFormatFlag(c, &o.Format)
	return c
}

func runGroupsList(ctx context.Context, o *groupsListOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	gs, err := m.Groups(ctx)
	if err != nil {
		return err
	}
	if ok, err := printData(o.IO.Out, o.Format, gs); ok {
		return err
	}
	if len(gs) == 0 {
		fmt.Fprintln(o.IO.ErrOut, "No groups yet. Create one with `sbctl groups create <name>`.")
		return nil
	}
	rows := make([][]string, len(gs))
	for i, g := range gs {
		rows[i] = []string{g.Name, fmt.Sprint(len(g.Profiles)), healthSummary(g.Statuses), profiles.Dash(g.Description)}
	}
	return renderTable(o.IO.ColorOut(), o.IO.OutTTY, []string{"NAME", "PROFILES", "HEALTH", "DESCRIPTION"}, rows, nil)
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

func newGroupsShowCmd(f *Factory, runF func(*listOptions) error) *cobra.Command {
	o := &listOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:               "show <group>",
		Short:             "List a group's profiles (like profiles list --group)",
		Args:              exactArgs(1, "one group name"),
		ValidArgsFunction: completeGroups(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Filter.Group = args[0]
			if err := checkFormat(o.Format); err != nil {
				return err
			}
			return runWith(c.Context(), o, runF, runGroupsShow)
		},
	}
	addFormatFlag(c, &o.Format)
	return c
}

// runGroupsShow is the group's description (in a table), then its list.
func runGroupsShow(ctx context.Context, o *listOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	g, err := m.Group(o.Filter.Group)
	if err != nil {
		return err
	}
	if o.Format == formatTable && g.Description != "" {
		fmt.Fprintf(o.IO.ErrOut, "%s: %s\n", g.Name, g.Description)
	}
	return runList(ctx, o)
}

type groupsCreateOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name        string
	Description string
}

func newGroupsCreateCmd(f *Factory, runF func(*groupsCreateOptions) error) *cobra.Command {
	o := &groupsCreateOptions{IO: f.IO, Manager: f.Manager}
	c := &cobra.Command{
		Use:   "create <group>",
		Short: "Create a group",
		Args:  exactArgs(1, "one group name"),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(c.Context(), o, runF, runGroupsCreate)
		},
	}
	c.Flags().StringVarP(&o.Description, "description", "d", "", "what the group is for")
	return c
}

func runGroupsCreate(ctx context.Context, o *groupsCreateOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	if err := m.CreateGroup(ctx, o.Name, o.Description); err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Created group %q. Add profiles with `sbctl groups add %s <profile>...`.\n", o.Name, o.Name)
	return nil
}

type groupsDeleteOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Name string
}

func newGroupsDeleteCmd(f *Factory, runF func(*groupsDeleteOptions) error) *cobra.Command {
	o := &groupsDeleteOptions{IO: f.IO, Manager: f.Manager}
	return &cobra.Command{
		Use:               "delete <group>",
		Short:             "Delete a group (its profiles stay)",
		Args:              exactArgs(1, "one group name"),
		ValidArgsFunction: completeGroups(f),
		RunE: func(c *cobra.Command, args []string) error {
			o.Name = args[0]
			return runWith(c.Context(), o, runF, runGroupsDelete)
		},
	}
}

func runGroupsDelete(ctx context.Context, o *groupsDeleteOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	members, err := m.DeleteGroup(ctx, o.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.ErrOut, "Deleted group %q", o.Name)
	if len(members) > 0 {
		fmt.Fprintf(o.IO.ErrOut, " (its %d profiles stay: %s)", len(members), strings.Join(members, ", "))
	}
	fmt.Fprintln(o.IO.ErrOut, ".")
	return nil
}

// groupsMemberOptions are `groups add` (Add) and `groups remove`.
type groupsMemberOptions struct {
	IO      *IOStreams
	Manager func() (*profiles.Manager, error)

	Add      bool
	Group    string
	Profiles []string
}

func newGroupsMemberCmd(f *Factory, add bool, runF func(*groupsMemberOptions) error) *cobra.Command {
	o := &groupsMemberOptions{IO: f.IO, Manager: f.Manager, Add: add}
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
			o.Group, o.Profiles = args[0], args[1:]
			return runWith(c.Context(), o, runF, runGroupsMember)
		},
	}
	if !add {
		c.Aliases = []string{"rm"}
	}
	return c
}

func runGroupsMember(ctx context.Context, o *groupsMemberOptions) error {
	m, err := o.Manager()
	if err != nil {
		return err
	}
	var changed []string
	verb := "Added to"
	if o.Add {
		changed, err = m.AddToGroup(ctx, o.Group, o.Profiles)
	} else {
		verb = "Removed from"
		changed, err = m.RemoveFromGroup(ctx, o.Group, o.Profiles)
	}
	if err != nil {
		return err
	}
	if len(changed) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "Nothing to change in group %q.\n", o.Group)
		return nil
	}
	fmt.Fprintf(o.IO.ErrOut, "%s group %q: %s.\n", verb, o.Group, strings.Join(changed, ", "))
	return nil
}
