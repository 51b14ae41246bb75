package profiles

import (
	"context"
	"fmt"
	"slices"

	"github.com/sbctl/sbctl/config"
)

// GroupView is one group as `groups list` presents it.
type GroupView struct {
	Name        string         `json:"name" yaml:"name"`
	Description string         `json:"description" yaml:"description"`
	Profiles    []string       `json:"profiles" yaml:"profiles"`
	Statuses    map[Status]int `json:"statuses" yaml:"statuses"`
}

// Groups lists the groups with their members and a count per status.
func (m *Manager) Groups(ctx context.Context) ([]GroupView, error) {
	views, err := m.List(ctx, Filter{})
	if err != nil {
		return nil, err
	}
	byName := make(map[string]Status, len(views))
	for _, v := range views {
		byName[v.Name] = v.Status
	}
	out := make([]GroupView, 0, len(m.config().Groups))
	for _, g := range m.config().Groups {
		gv := GroupView{Name: g.Name, Description: g.Description, Profiles: []string{}, Statuses: map[Status]int{}}
		for _, p := range m.config().Members(g.Name) {
			gv.Profiles = append(gv.Profiles, p.Name)
			gv.Statuses[byName[p.Name]]++
		}
		out = append(out, gv)
	}
	return out, nil
}

// CreateGroup adds a group to the config.
func (m *Manager) CreateGroup(ctx context.Context, name, description string) error {
	if err := config.ValidateName("group", name); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	if g, ok := m.config().Group(name); ok {
		return &UsageError{Msg: fmt.Sprintf("group %q already exists (%s:%d)", name, m.config().Path, g.Line)}
	}
	return m.editConfig(ctx, func(c *config.Config) error { return c.AddGroup(name, description) })
}

// DeleteGroup removes a group and its memberships; the profiles stay.
func (m *Manager) DeleteGroup(ctx context.Context, name string) (members []string, err error) {
	if _, err := m.Group(name); err != nil {
		return nil, err
	}
	for _, p := range m.config().Members(name) {
		members = append(members, p.Name)
	}
	return members, m.editConfig(ctx, func(c *config.Config) error { return c.RemoveGroup(name) })
}

// AddToGroup puts profiles into a group; profiles already in it are
// reported, not an error.
func (m *Manager) AddToGroup(ctx context.Context, group string, names []string) (added []string, err error) {
	return m.changeMembership(ctx, group, names, true)
}

// RemoveFromGroup takes profiles out of a group.
func (m *Manager) RemoveFromGroup(ctx context.Context, group string, names []string) (removed []string, err error) {
	return m.changeMembership(ctx, group, names, false)
}

func (m *Manager) changeMembership(ctx context.Context, group string, names []string, add bool) ([]string, error) {
	if _, err := m.Group(group); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := m.Profile(n); err != nil {
			return nil, err
		}
	}
	var changed []string
	err := m.editConfig(ctx, func(c *config.Config) error {
		changed = nil
		for _, n := range names {
			p, ok := c.Profile(n)
			if !ok {
				return &NotFoundError{Kind: "profile", Name: n}
			}
			has := slices.Contains(p.Groups, group)
			if has == add {
				continue
			}
			gs := slices.Clone(p.Groups)
			if add {
				gs = append(gs, group)
			} else {
				gs = slices.DeleteFunc(gs, func(g string) bool { return g == group })
			}
			if err := c.SetProfileGroups(n, gs); err != nil {
				return err
			}
			changed = append(changed, n)
		}
		return nil
	})
	return changed, err
}
