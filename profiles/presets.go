package profiles

import (
	"sync"

	"github.com/sbctl/sbctl/auth/provider"
)

// PresetNames lists what a provider's `type` may name: the network presets
// and the generic kinds (oidc, oauth2).
var PresetNames = sync.OnceValue(func() []string {
	ps := provider.Presets()
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
})
