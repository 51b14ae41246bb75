package config

import (
	"fmt"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeName is the one spelling of a profile, group or provider name:
// Unicode NFC. A name typed on a macOS terminal or copied from a web page
// may arrive decomposed (NFD: "e" + U+0301) while the file has it composed
// ("é"); both look identical, so they must be one name — and one keychain
// item. Every name read from the file, typed on a command line or passed to
// an edit goes through here before it is compared or stored.
func NormalizeName(name string) string {
	return norm.NFC.String(name)
}

// ValidateName checks a profile, group or provider name, in its normalised
// form (NormalizeName). Names are used as keychain item names and on
// command lines, so they must be one printable word; letters of any script
// are fine (teams name profiles in Japanese).
func ValidateName(kind, name string) error {
	name = NormalizeName(name)
	if name == "" {
		return fmt.Errorf("%s name is empty", kind)
	}
	if len(name) > 100 {
		return fmt.Errorf("%s name %q is longer than 100 bytes; use a shorter name", kind, name)
	}
	for i, r := range name {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.' || r == '@' || unicode.Is(unicode.Mn, r)
		if !ok || (i == 0 && (r == '-' || r == '.')) {
			return fmt.Errorf("%s name %q: use letters, digits, '-', '_', '.' or '@' (not starting with '-' or '.')", kind, name)
		}
	}
	return nil
}
