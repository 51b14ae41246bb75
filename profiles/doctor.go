package profiles

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sbctl/sbctl/auth/store"
)

// Check is one line of `sbctl doctor`.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Warn   bool   `json:"warning,omitempty"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Doctor checks what sbctl needs: the config (already loaded by Open), the
// state directory, the token store, a browser and the clock.
func (m *Manager) Doctor(ctx context.Context) []Check {
	var out []Check
	cfgDetail := fmt.Sprintf("%s: %d providers, %d groups, %d profiles", m.Config.Path, len(m.Config.Providers), len(m.Config.Groups), len(m.Config.Profiles))
	if !m.Config.Exists {
		out = append(out, Check{Name: "config", OK: true, Warn: true, Detail: m.Config.Path + " does not exist yet",
			Fix: "create it with a `providers:` section (see README.md), or run `sbctl profiles add`"})
	} else {
		out = append(out, Check{Name: "config", OK: true, Detail: cfgDetail})
	}
	out = append(out, m.checkStateDir(ctx))
	out = append(out, m.checkStore(ctx))
	out = append(out, checkBrowser())
	out = append(out, m.checkClock())
	return out
}

func (m *Manager) checkStateDir(ctx context.Context) Check {
	c := Check{Name: "state", Detail: m.State.Path}
	_, err := m.State.Load()
	switch {
	case errors.Is(err, ErrStateCorrupt):
		c.OK, c.Warn = true, true
		c.Detail += " is corrupt; it will be rebuilt from the token store on the next run"
		return c
	case err != nil && !errors.Is(err, errStateMissing):
		c.Detail = err.Error()
		c.Fix = "check the permissions of " + filepath.Dir(m.State.Path)
		return c
	}
	if err := m.State.Update(ctx, func(*State) error { return nil }); err != nil {
		c.Detail = err.Error()
		c.Fix = "make " + filepath.Dir(m.State.Path) + " writable, or set XDG_STATE_HOME"
		return c
	}
	c.OK = true
	return c
}

// checkStore writes, reads and deletes a probe item.
func (m *Manager) checkStore(ctx context.Context) Check {
	c := Check{Name: "token store"}
	s, err := m.Store()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	c.Detail = s.Describe()
	var b [6]byte
	_, _ = rand.Read(b[:])
	key := "doctor-probe:" + hex.EncodeToString(b[:])
	if err := s.Set(ctx, key, "probe"); err != nil {
		c.Detail, c.Fix = err.Error(), storeFix()
		return c
	}
	v, err := s.Get(ctx, key)
	_ = s.Delete(ctx, key)
	if err != nil || v != "probe" {
		c.Detail, c.Fix = fmt.Sprintf("%s: wrote a probe item but could not read it back (%v)", s.Describe(), err), storeFix()
		return c
	}
	c.OK = true
	c.Detail += ": read and write work"
	if _, ok := s.(*store.File); ok {
		c.Warn = true
		c.Detail += " (plain-file store: tokens are readable by anyone who can read the file)"
	}
	return c
}

func storeFix() string {
	if runtime.GOOS == "linux" {
		return "start and unlock a Secret Service (e.g. `gnome-keyring-daemon --unlock`), or opt in to the plain-file store with --token-store file"
	}
	return "unlock the keychain, or opt in to the plain-file store with --token-store file"
}

// checkBrowser finds what `sbctl reauth` would open.
func checkBrowser() Check {
	c := Check{Name: "browser"}
	for _, env := range []string{"SBCTL_BROWSER", "BROWSER"} {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			prog := strings.Fields(v)[0]
			if p, err := exec.LookPath(prog); err == nil {
				c.OK, c.Detail = true, fmt.Sprintf("$%s: %s", env, p)
			} else {
				c.Detail, c.Fix = fmt.Sprintf("$%s names %q, which is not an executable on PATH", env, prog), "fix $"+env+", or use `sbctl reauth --no-browser` and open the printed URL yourself"
			}
			return c
		}
	}
	var candidates []string
	switch runtime.GOOS {
	case "darwin":
		candidates = []string{"open"}
	case "windows":
		candidates = []string{"rundll32"}
	default:
		candidates = []string{"xdg-open", "x-www-browser", "www-browser", "wslview"}
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			c.OK, c.Detail = true, p
			return c
		}
	}
	c.OK, c.Warn = true, true
	c.Detail = "no browser found (" + strings.Join(candidates, ", ") + ")"
	c.Fix = "`sbctl reauth` will print the URL to open elsewhere; or use --manual / --device on headless machines"
	return c
}

// checkClock catches a clock so wrong that every expiry would be misjudged.
// (With no network there is no reference clock; a year before sbctl existed
// is proof enough.)
func (m *Manager) checkClock() Check {
	now := m.now()
	c := Check{Name: "clock", Detail: now.UTC().Format(time.RFC3339)}
	if now.Year() < 2025 {
		c.Fix = "set the system clock (timedatectl set-ntp true): token expiry depends on it"
		c.Detail += " is before 2025"
		return c
	}
	c.OK = true
	return c
}
