package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth"
)

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sbctl")
	var warn bytes.Buffer
	f := NewFile(dir, &warn)
	ctx := context.Background()
	if _, err := f.Get(ctx, "profile:a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("empty store: %v", err)
	}
	tok := &auth.Token{AccessToken: "AT-file-1", RefreshToken: "RT-file-1"}
	if err := PutToken(ctx, f, "a", tok); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "plain text") {
		t.Error("no warning on write")
	}
	got, err := GetToken(ctx, f, "a")
	if err != nil || got.AccessToken != "AT-file-1" || got.RefreshToken != "RT-file-1" {
		t.Fatalf("got %+v, %v", got, err)
	}
	fi, _ := os.Stat(f.Path)
	di, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o600 || di.Mode().Perm() != 0o700 {
		t.Errorf("modes file %v dir %v", fi.Mode().Perm(), di.Mode().Perm())
	}
	if err := f.Delete(ctx, ProfileKey("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := GetToken(ctx, f, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	// A file others can read is refused, not used.
	if err := os.Chmod(f.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Get(ctx, "x"); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable file: %v", err)
	}
}

func TestGetTokenUnreadableDoesNotLeak(t *testing.T) {
	f := NewFile(t.TempDir(), nil)
	ctx := context.Background()
	if err := f.Set(ctx, ProfileKey("a"), `{"refresh_token":"RT-LEAK-CHECK"}`); err != nil {
		t.Fatal(err)
	}
	_, err := GetToken(ctx, f, "a")
	if err == nil || strings.Contains(err.Error(), "RT-LEAK-CHECK") || !strings.Contains(err.Error(), "sbctl reauth a") {
		t.Errorf("err = %v", err)
	}
}
