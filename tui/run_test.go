package tui

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sbctl/sbctl/auth/testkit"
)

func TestRunQuitsWithQ(t *testing.T) {
	var out testkit.Buffer
	err := Run(context.Background(), fixtureManager(t), Options{Output: &out, Input: strings.NewReader("q"), Title: "sbctl run"})
	if err != nil {
		t.Fatalf("q: %v", err)
	}
	if !strings.Contains(out.String(), "sbctl run") {
		t.Errorf("nothing drawn on Output:\n%q", out.String())
	}
}

func TestRunCtrlCIsCanceled(t *testing.T) {
	err := Run(context.Background(), fixtureManager(t), Options{Output: io.Discard, Input: strings.NewReader("\x03")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ctrl+c: %v, want context.Canceled", err)
	}
}

func TestRunContextCancelledIsCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pr, pw := io.Pipe() // input that never types anything
	defer pw.Close()
	err := Run(ctx, fixtureManager(t), Options{Output: io.Discard, Input: pr})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v, want context.Canceled", err)
	}
}
