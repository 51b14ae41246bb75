package config

import (
	"strings"
	"testing"
)

// FuzzParse: any input either parses or gives an error that names the file;
// it never panics. A parsed config survives adding a profile.
func FuzzParse(f *testing.F) {
	f.Add([]byte(commented))
	f.Add([]byte("providers:\n  x: {}\nprofiles:\n  a:\n    provider: x\n"))
	f.Add([]byte("providers: [\n"))
	f.Add([]byte("a: &x {b: *x}\n"))
	f.Add([]byte("profiles:\n  a: |\n    x\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("f.yaml", src, presets)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(c.Providers) == 0 {
			return
		}
		p := NewProfile{Name: "fuzz-added", Provider: c.Providers[0].Name}
		if _, taken := c.Profile(p.Name); taken {
			return
		}
		if err := c.AddProfile(p); err != nil {
			return // refusing an edit is fine; corrupting the file is not
		}
		if got, ok := c.Profile(p.Name); !ok || got.Provider != p.Provider {
			t.Fatalf("added profile not found after edit:\n%s", c.Bytes())
		}
	})
}
