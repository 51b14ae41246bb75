package testkit

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Buffer is a bytes.Buffer that goroutines may share: a sign-in, a program
// or a child process's output copier writes to it on its own goroutine while
// the test reads it. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Outcome is what a helper run by RunOutcome did with its testing.TB: the
// message it skipped or failed with ("" when it did not).
type Outcome struct {
	Skipped, Failed string
}

// RunOutcome runs f with a testing.TB that records a skip or a failure
// instead of applying it to t, so that a test can check which of the two a
// helper chose (the SBCTL_REQUIRE_<SERVICE>=1 switches turn a skip into a
// failure). Like the real methods, Skip* and Fatal*/FailNow stop f's
// goroutine; Error* records and lets f go on. Everything else (Log,
// TempDir, Cleanup, ...) is t's.
func RunOutcome(t testing.TB, f func(testing.TB)) Outcome {
	o := &outcomeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(o)
	}()
	<-done
	return Outcome{Skipped: o.skipped, Failed: o.failed}
}

type outcomeTB struct {
	testing.TB
	skipped, failed string
}

func sprint(args []any) string { return strings.TrimSuffix(fmt.Sprintln(args...), "\n") }

func (o *outcomeTB) Helper() {}

func (o *outcomeTB) Skip(args ...any)            { o.skipWith(sprint(args)) }
func (o *outcomeTB) Skipf(f string, args ...any) { o.skipWith(fmt.Sprintf(f, args...)) }
func (o *outcomeTB) SkipNow()                    { o.skipWith("skipped") }
func (o *outcomeTB) Skipped() bool               { return o.skipped != "" }

// skipWith records a skip and stops the helper's goroutine.
func (o *outcomeTB) skipWith(msg string) {
	o.skipped = msg
	runtime.Goexit()
}

func (o *outcomeTB) Error(args ...any)            { o.fail(sprint(args)) }
func (o *outcomeTB) Errorf(f string, args ...any) { o.fail(fmt.Sprintf(f, args...)) }
func (o *outcomeTB) Fail()                        { o.fail("failed") }
func (o *outcomeTB) Failed() bool                 { return o.failed != "" }

func (o *outcomeTB) Fatal(args ...any) {
	o.fail(sprint(args))
	runtime.Goexit()
}

func (o *outcomeTB) Fatalf(f string, args ...any) {
	o.fail(fmt.Sprintf(f, args...))
	runtime.Goexit()
}

func (o *outcomeTB) FailNow() {
	o.fail("failed")
	runtime.Goexit()
}

// fail keeps the first message: the one that says what went wrong.
func (o *outcomeTB) fail(msg string) {
	if o.failed == "" {
		o.failed = msg
	}
}
