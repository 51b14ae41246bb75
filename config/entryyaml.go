package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// EntryYAML is the value of an entry (`providers: {name: …}`) as YAML text
// at the left margin, comments dropped: how team mode stores a provider's
// settings in the team database, to be put back under its name in the
// config it renders (Catalog YAML). false when there is no such entry.
func (c *Config) EntryYAML(section, name string) (string, bool) {
	_, val := c.section(section)
	if val == nil || val.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(val.Content); i += 2 {
		if !sameName(val.Content[i], name) {
			continue
		}
		body := *resolve(val.Content[i+1])
		stripComments(&body)
		if body.Kind == yaml.MappingNode && len(body.Content) == 0 {
			return "", true
		}
		b, err := yaml.Marshal(&body)
		if err != nil {
			return "", false
		}
		return strings.TrimRight(string(b), "\n"), true
	}
	return "", false
}

// stripComments clears the comments of a copied node tree; they belong to
// one person's file, not to the team's shared settings.
func stripComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	n.Style &^= yaml.FlowStyle
	kids := make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		cp := *k
		stripComments(&cp)
		kids[i] = &cp
	}
	n.Content = kids
}
