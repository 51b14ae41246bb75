package profiles

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sbctl/sbctl/config"
	"github.com/sbctl/sbctl/profiles/team"
)

// In team mode the providers, groups and profiles live in the team
// database. The Manager still works on a *config.Config: the catalog is
// rendered as the YAML a config file would hold and parsed by the same
// parser (so every rule of the file applies to the team's catalog too),
// and an edit is made with the same config edits on that text, then
// turned back into a catalog and written in one transaction.

// renderCatalog is cat as config.yaml text, with the local file's
// preferences (defaults) first.
func renderCatalog(cat team.Catalog, local *config.Config) []byte {
	var b strings.Builder
	b.WriteString("# the team catalog, rendered from the team database\n")
	if local != nil && local.Defaults.ExpiringWithin > 0 {
		fmt.Fprintf(&b, "defaults:\n  expiring_within: %s\n", config.FormatDuration(local.Defaults.ExpiringWithin))
	}
	if len(cat.Providers) > 0 {
		b.WriteString("providers:\n")
		for _, p := range cat.Providers {
			fmt.Fprintf(&b, "  %s:", yamlString(p.Name))
			if strings.TrimSpace(p.YAML) == "" {
				b.WriteString(" {}\n")
				continue
			}
			b.WriteString("\n")
			for _, l := range strings.Split(p.YAML, "\n") {
				b.WriteString("    " + l + "\n")
			}
		}
	}
	if len(cat.Groups) > 0 {
		b.WriteString("groups:\n")
		for _, g := range cat.Groups {
			fmt.Fprintf(&b, "  %s:", yamlString(g.Name))
			if g.Description == "" {
				b.WriteString(" {}\n")
				continue
			}
			fmt.Fprintf(&b, "\n    description: %s\n", yamlString(g.Description))
		}
	}
	if len(cat.Profiles) > 0 {
		b.WriteString("profiles:\n")
		for _, p := range cat.Profiles {
			fmt.Fprintf(&b, "  %s:\n    provider: %s\n", yamlString(p.Name), yamlString(p.Provider))
			if len(p.Groups) > 0 {
				fmt.Fprintf(&b, "    groups: %s\n", yamlList(p.Groups))
			}
			if len(p.Scopes) > 0 {
				fmt.Fprintf(&b, "    scopes: %s\n", yamlList(p.Scopes))
			}
		}
	}
	return []byte(b.String())
}

// catalogOf is a parsed config's catalog, in the file's order: what an
// edit made of the rendered text is written back as.
func catalogOf(c *config.Config, version int64) team.Catalog {
	cat := team.Catalog{Version: version}
	for _, p := range c.Providers {
		body, _ := c.EntryYAML(config.SectionProviders, p.Name)
		cat.Providers = append(cat.Providers, team.CatalogProvider{Name: p.Name, YAML: body})
	}
	for _, g := range c.Groups {
		cat.Groups = append(cat.Groups, team.CatalogGroup{Name: g.Name, Description: g.Description})
	}
	for _, p := range c.Profiles {
		cat.Profiles = append(cat.Profiles, team.CatalogProfile{Name: p.Name, Provider: p.Provider, Groups: p.Groups, Scopes: p.Scopes})
	}
	return cat
}

// yamlString quotes s as a JSON string, which YAML reads as the same
// scalar whatever it holds.
func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func yamlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = yamlString(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
