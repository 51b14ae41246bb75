package config

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// A config named explicitly (--config, $SBCTL_CONFIG) must exist: a typo in
// a cron line must not read as an empty, healthy config.
func TestLoadMissingExplicitPathIsAnError(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "typo.yaml")
	_, err := Load(path, Options{Presets: presets.Presets, MustExist: true})
	var nf *NotFoundError
	if !errors.As(err, &nf) || nf.Path != path || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %#v", err)
	}
	want := path + ": no such file; create it, or fix the path given by --config/SBCTL_CONFIG"
	if err.Error() != want {
		t.Errorf("message %q\nwant    %q", err, want)
	}
	_, err = Load(path, Options{MustExist: true, NamedBy: "$SBCTL_CONFIG"})
	if want := path + ": no such file; create it, or fix the path given by $SBCTL_CONFIG"; err == nil || err.Error() != want {
		t.Errorf("message %v\nwant    %q", err, want)
	}
	// The default path may be absent: the first run.
	c, err := Load(path, presets)
	if err != nil || c.Exists {
		t.Errorf("default path: c=%+v err=%v", c, err)
	}
}

// A second YAML document would be ignored by the parser (and an entry
// appended after `---` lost): it is an error.
func TestParseRefusesSecondDocument(t *testing.T) {
	t.Parallel()
	_, err := Parse("config.yaml", []byte("providers:\n  x: {}\n---\nprofiles:\n  a:\n    provider: x\n"), presets)
	if err == nil || !strings.HasPrefix(err.Error(), "config.yaml:3: a second YAML document starts here") {
		t.Fatalf("err = %v", err)
	}
	// A trailing marker with nothing after it is harmless.
	if _, err := Parse("config.yaml", []byte("---\nproviders:\n  x: {}\n...\n"), presets); err != nil {
		t.Fatal(err)
	}
}

// Problems are listed in file order, whichever check found them.
func TestErrorsAreInFileOrder(t *testing.T) {
	t.Parallel()
	_, err := Parse("config.yaml", []byte("providers:\n  a:\n    type: oauth2\n    auth_url: ftp://x\nprofiles:\n  p:\n    provider: b\n"), presets)
	es, ok := err.(Errors)
	if !ok || len(es) != 3 || es[0].Line != 2 || es[1].Line != 4 || es[2].Line != 7 {
		t.Fatalf("err = %v", err)
	}
}
