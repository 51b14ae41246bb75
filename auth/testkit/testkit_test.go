package testkit_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/sbctl/sbctl/auth/testkit"
)

func TestBufferIsSafeToShare(t *testing.T) {
	var b testkit.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

func TestRunOutcome(t *testing.T) {
	after := false
	for _, tc := range []struct {
		name                string
		f                   func(testing.TB)
		skipped, failed     string
		reachedTheStatement bool
	}{
		{"skipf", func(tb testing.TB) { tb.Skipf("no %s here", "node"); after = true }, "no node here", "", false},
		{"skip", func(tb testing.TB) { tb.Skip("no", "keychain"); after = true }, "no keychain", "", false},
		{"fatalf", func(tb testing.TB) { tb.Fatalf("need %d", 1); after = true }, "", "need 1", false},
		{"fatal", func(tb testing.TB) { tb.Fatal("gone"); after = true }, "", "gone", false},
		{"failnow", func(tb testing.TB) { tb.FailNow(); after = true }, "", "failed", false},
		{"errorf goes on", func(tb testing.TB) { tb.Errorf("first"); tb.Error("second"); after = tb.Failed() }, "", "first", true},
		{"nothing", func(tb testing.TB) { tb.Helper(); tb.Logf("fine"); after = true }, "", "", true},
	} {
		after = false
		o := testkit.RunOutcome(t, tc.f)
		if o.Skipped != tc.skipped || o.Failed != tc.failed || after != tc.reachedTheStatement {
			t.Errorf("%s: skipped %q, failed %q, went on %v; want %q, %q, %v", tc.name, o.Skipped, o.Failed, after, tc.skipped, tc.failed, tc.reachedTheStatement)
		}
	}
	if t.Failed() || t.Skipped() {
		t.Fatal("the outcome reached the real test")
	}
}
