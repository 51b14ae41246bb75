package cmd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sbctl/sbctl/auth/sandbox"
	"github.com/sbctl/sbctl/auth/sandbox/sandboxtest"
	"github.com/sbctl/sbctl/auth/store"
	"github.com/sbctl/sbctl/auth/testkit"
)

// Ctrl-C during `sbctl refresh --all` (issue 8 item 4): the network rotates
// a refresh token as soon as it gets the request, whether or not sbctl is
// still there to read the answer. A first interruption stops new renewals
// but lets those in flight store their answer; a second one stops them and
// names the profiles whose grant may be lost. Checked against the sandbox
// with strict rotation, reuse detection and a delay between rotating and
// answering.

// irCount is how many profiles the interrupted `refresh --all` renews: more
// than twice its concurrency (4), so that some are in flight and some
// not yet started when Ctrl-C comes; fewer processes to set up with -short.
func irCount() int {
	if testing.Short() {
		return 9
	}
	return 12
}

func irWorkspace(t *testing.T) (*rcWorkspace, *sandbox.Server) {
	t.Helper()
	srv := sandboxtest.Start(t, sandbox.Options{RotateRefresh: true, AccessTTL: time.Hour, AnswerLatency: 1500 * time.Millisecond})
	w := newRCWorkspace(t, srv, false)
	for i := range irCount() {
		tr, err := srv.Issue(sandbox.IssueRequest{ClientID: rcClientID, Subject: fmt.Sprintf("user-%d", i), Scopes: []string{"openid", "offline_access"}})
		if err != nil {
			t.Fatal(err)
		}
		in, _ := json.Marshal(map[string]string{"access_token": tr.AccessToken, "refresh_token": tr.RefreshToken,
			"expiry": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})
		if r := w.run(t, string(in), "profiles", "add", fmt.Sprintf("p%02d", i), "--provider", "sbx", "--with-token"); r.code != 0 {
			t.Fatalf("importing: %s", r)
		}
	}
	return w, srv
}

// irInterrupt starts `refresh --all`, sends SIGINT once the sandbox has
// rotated `inFlight` refresh tokens (their answers still delayed), and a
// second SIGINT right after when twice is set.
func irInterrupt(t *testing.T, w *rcWorkspace, srv *sandbox.Server, twice bool) rcResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), rcChildTimeout)
	defer cancel()
	args := []string{"refresh", "--all", "--concurrency", "4"}
	c, out, errOut := w.command(ctx, "", args...)
	// The test reads stderr while the child writes it.
	progress := &testkit.Buffer{}
	c.Stderr = io.MultiWriter(errOut, progress)
	start := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for srv.Stats().RefreshRequests < 4 {
		select {
		case err := <-done:
			t.Fatalf("refresh ended before it was interrupted: %v\n%s", err, progress)
		case <-tick.C:
		}
	}
	_ = c.Process.Signal(os.Interrupt)
	if twice {
		// The second Ctrl-C once the first has been seen (its notice).
		for !strings.Contains(progress.String(), "Interrupted") {
			select {
			case err := <-done:
				t.Fatalf("refresh ended before the second interruption: %v\n%s", err, progress)
			case <-tick.C:
			}
		}
		_ = c.Process.Signal(os.Interrupt)
	}
	err := <-done
	return rcFinish(t, c, args, out, errOut, err, time.Since(start))
}

// irHeld checks the invariant after a fault: every grant the sandbox still
// considers active is the one sbctl holds. It returns the profiles whose
// stored refresh token the sandbox no longer accepts.
func irHeld(t *testing.T, w *rcWorkspace, srv *sandbox.Server) (lost []string) {
	t.Helper()
	fs := store.NewFile(w.dataDir, nil)
	for i := range irCount() {
		name := fmt.Sprintf("p%02d", i)
		tok, err := store.GetToken(context.Background(), fs, name)
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		if active, _ := rcIntrospect(t, srv, tok.RefreshToken); !active {
			lost = append(lost, name)
		}
	}
	return lost
}

func TestInterruptedRefreshLosesNoGrant(t *testing.T) {
	t.Parallel()
	w, srv := irWorkspace(t)
	r := irInterrupt(t, w, srv, false)
	if r.code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130: %s", r.code, r)
	}
	if lost := irHeld(t, w, srv); len(lost) > 0 {
		t.Errorf("Ctrl-C lost the grants of %v: the sandbox rotated their refresh tokens but sbctl kept the old ones\n%s", lost, r)
	}
	st := srv.Stats()
	if st.ReuseDetections != 0 {
		t.Errorf("%d reuse detections", st.ReuseDetections)
	}
	if st.RefreshRequests >= int64(irCount()) {
		t.Errorf("%d refresh requests: the interruption did not stop new renewals", st.RefreshRequests)
	}
	if !strings.Contains(r.stderr, "not started (interrupted)") {
		t.Errorf("the summary does not count what was not started:\n%s", r.stderr)
	}
	// The next run renews the rest, from the tokens sbctl kept.
	if r2 := w.run(t, "", "refresh", "--all"); r2.code != 0 {
		t.Errorf("the next refresh --all: %s", r2)
	}
	if lost := irHeld(t, w, srv); len(lost) > 0 {
		t.Errorf("after the next run, lost: %v", lost)
	}
}

func TestSecondInterruptNamesPossiblyLostGrants(t *testing.T) {
	t.Parallel()
	w, srv := irWorkspace(t)
	r := irInterrupt(t, w, srv, true)
	if r.code != 130 {
		t.Errorf("exit %d after two Ctrl-C, want 130: %s", r.code, r)
	}
	lost := irHeld(t, w, srv)
	if len(lost) == 0 {
		t.Fatalf("a second Ctrl-C while answers were delayed lost nothing; the test did not interrupt in flight\n%s", r)
	}
	for _, name := range lost {
		if !strings.Contains(r.stderr, name) || !strings.Contains(r.stderr, "may have replaced their refresh token") {
			t.Errorf("%s lost its grant but the report does not name it:\n%s", name, r.stderr)
		}
	}
}
