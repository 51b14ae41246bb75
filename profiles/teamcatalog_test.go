package profiles

import (
	"reflect"
	"testing"

	"github.com/sbctl/sbctl/config"
)

// TestCatalogRoundTrip: a config's catalog, rendered as the team's config
// text and parsed again, is the same catalog, and the parsed config holds
// the same settings (every rule of the file applies to the team's too).
func TestCatalogRoundTrip(t *testing.T) {
	t.Parallel()
	src := `defaults:
  expiring_within: 3d
providers:
  acme:        # a comment that stays in this file
    type: oidc
    issuer: https://id.acme.example
    client_id: "sbctl: the cli"
    scopes: [openid, offline_access]
    redirect_port: 8765
  x:
    client_id: abc123
groups:
  marketing:
    description: 'Brand accounts: "all"'
  広報: {}
profiles:
  acme-x:
    provider: acme
    groups: [marketing, 広報]
    scopes: [openid]
  広報アカウント:
    provider: x
`
	opts := config.Options{Presets: PresetNames()}
	c, err := config.Parse("config.yaml", []byte(src), opts)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalogOf(c, 7)
	rendered := renderCatalog(cat, c)
	again, err := config.Parse("team", rendered, opts)
	if err != nil {
		t.Fatalf("rendered catalog does not parse: %v\n%s", err, rendered)
	}
	if got := catalogOf(again, 7); !reflect.DeepEqual(got, cat) {
		t.Errorf("round trip:\n got %+v\nwant %+v\n%s", got, cat, rendered)
	}
	p, _ := again.Provider("acme")
	if p.ClientID != "sbctl: the cli" || p.RedirectPort != 8765 || len(p.Scopes) != 2 {
		t.Errorf("provider settings lost: %+v", p)
	}
	if again.Defaults.ExpiringWithin != c.Defaults.ExpiringWithin {
		t.Errorf("defaults %v", again.Defaults)
	}
	if g, _ := again.Group("marketing"); g.Description != `Brand accounts: "all"` {
		t.Errorf("group %+v", g)
	}
}
