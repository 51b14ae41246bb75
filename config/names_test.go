package config

import (
	"strings"
	"testing"
)

const (
	cafeNFC = "caf\u00e9"  // é as one code point
	cafeNFD = "cafe\u0301" // e + combining acute accent
)

func TestNamesAreNFC(t *testing.T) {
	t.Parallel()
	// The provider and group keys are NFD, the references NFC, and the
	// other way round: they must meet.
	src := "providers:\n  " + cafeNFD + ":\n    type: x\ngroups:\n  " + cafeNFC + ": {}\nprofiles:\n  " + cafeNFD + ":\n    provider: " + cafeNFC + "\n    groups: [" + cafeNFD + "]\n"
	c := mustParse(t, src)
	for _, name := range []string{cafeNFC, cafeNFD} {
		p, ok := c.Profile(name)
		if !ok || p.Name != cafeNFC || p.Provider != cafeNFC || len(p.Groups) != 1 || p.Groups[0] != cafeNFC {
			t.Errorf("Profile(%q) = %+v, %v", name, p, ok)
		}
		if pr, ok := c.Provider(name); !ok || pr.Name != cafeNFC {
			t.Errorf("Provider(%q) = %+v, %v", name, pr, ok)
		}
		if g, ok := c.Group(name); !ok || g.Name != cafeNFC {
			t.Errorf("Group(%q) = %+v, %v", name, g, ok)
		}
		if m := c.Members(name); len(m) != 1 {
			t.Errorf("Members(%q) = %v", name, m)
		}
	}
	if got := c.ProfileNames(); len(got) != 1 || got[0] != cafeNFC {
		t.Errorf("ProfileNames = %q", got)
	}
}

func TestNamesEqualAfterNormalisationAreDuplicates(t *testing.T) {
	t.Parallel()
	src := "providers:\n  x: {}\nprofiles:\n  " + cafeNFC + ":\n    provider: x\n  " + cafeNFD + ":\n    provider: x\n"
	_, err := Parse("config.yaml", []byte(src), presets)
	want := `config.yaml:6: profiles: "` + cafeNFC + `" is defined twice (first at line 4; the two spellings differ only in Unicode normalisation)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v\nwant %q", err, want)
	}
}

func TestEditsNormaliseNames(t *testing.T) {
	t.Parallel()
	c := mustParse(t, "providers:\n  x: {}\ngroups:\n  "+cafeNFD+": {}\nprofiles:\n  "+cafeNFD+":\n    provider: x\n")
	if err := c.AddProfile(NewProfile{Name: cafeNFC, Provider: "x"}); err == nil || !strings.Contains(err.Error(), "already exists (config.yaml:6)") {
		t.Errorf("adding the NFC twin of an NFD profile: %v", err)
	}
	if err := c.AddGroup(cafeNFC, ""); err == nil || !strings.Contains(err.Error(), "already exists (config.yaml:4)") {
		t.Errorf("adding the NFC twin of an NFD group: %v", err)
	}
	// A new entry is written in NFC; the NFD entries keep their bytes.
	if err := c.AddProfile(NewProfile{Name: "th" + cafeNFD, Provider: "x", Groups: []string{cafeNFD}}); err != nil {
		t.Fatal(err)
	}
	b := string(c.Bytes())
	if !strings.Contains(b, "  th"+cafeNFC+":\n    provider: x\n    groups: ["+cafeNFC+"]\n") || !strings.Contains(b, "  "+cafeNFD+":\n    provider: x\n") {
		t.Errorf("got:\n%q", b)
	}
	if err := c.SetProfileGroups(cafeNFC, []string{cafeNFD}); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveProfile("th" + cafeNFC); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveGroup(cafeNFC); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveProfile(cafeNFC); err != nil {
		t.Fatal(err)
	}
	if got := string(c.Bytes()); got != "providers:\n  x: {}\ngroups:\nprofiles:\n" {
		t.Errorf("got %q", got)
	}
}

func TestValidateNameNormalises(t *testing.T) {
	t.Parallel()
	// 40 × é: 120 bytes decomposed, 80 composed.
	name := strings.Repeat("e\u0301", 40)
	if err := ValidateName("profile", name); err != nil {
		t.Errorf("ValidateName(NFD of 80 bytes): %v", err)
	}
	if got := NormalizeName(cafeNFD); got != cafeNFC {
		t.Errorf("NormalizeName(%q) = %q", cafeNFD, got)
	}
}
