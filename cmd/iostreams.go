package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/colorprofile"
	"golang.org/x/term"
)

// EnvForceTTY makes sbctl format stdout as for a terminal even when it is
// not one (tests, `watch`, pagers that understand colour).
const EnvForceTTY = "SBCTL_FORCE_TTY"

// IOStreams are the process's standard streams and what is known about
// them. Data goes to Out, messages for people to ErrOut.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	InTTY, OutTTY, ErrTTY bool
	// Profile is the colour profile of Out: NoTTY for pipes (no escape
	// codes at all), ASCII when colour is off on a terminal.
	Profile colorprofile.Profile
	// ErrProfile is the same for ErrOut.
	ErrProfile colorprofile.Profile
	Env        []string
	Now        func() time.Time

	progress progress
}

// progress is the one-line status StartProgress draws on ErrOut.
type progress struct {
	mu    sync.Mutex
	on    bool
	label string
}

// System returns the real streams.
func System() *IOStreams {
	io := &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, Env: os.Environ(), Now: time.Now}
	io.InTTY = isTerminal(os.Stdin)
	io.OutTTY = isTerminal(os.Stdout) || os.Getenv(EnvForceTTY) != ""
	io.ErrTTY = isTerminal(os.Stderr) || os.Getenv(EnvForceTTY) != ""
	io.Profile = profileFor(io.OutTTY, io.Env)
	io.ErrProfile = profileFor(io.ErrTTY, io.Env)
	return io
}

// Test returns streams for tests: stdin, stdout and stderr are buffers, no
// terminal, no colour, the real clock (set Now for a fixed one). Flip the
// TTY fields to check terminal output.
func Test() (ios *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	ios = &IOStreams{In: in, Out: out, ErrOut: errOut, Profile: colorprofile.NoTTY, ErrProfile: colorprofile.NoTTY, Now: time.Now}
	return ios, in, out, errOut
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// profileFor decides colour from the environment without probing the
// writer: NO_COLOR and TERM=dumb turn colour off (colorprofile.Env reads
// NO_COLOR, CLICOLOR, CLICOLOR_FORCE, COLORTERM and TERM).
func profileFor(tty bool, env []string) colorprofile.Profile {
	if !tty {
		return colorprofile.NoTTY
	}
	p := colorprofile.Env(env)
	if p < colorprofile.ASCII {
		p = colorprofile.ASCII
	}
	return p
}

// DisableColor switches colour off for both outputs (--no-color) while
// keeping terminal formatting.
func (s *IOStreams) DisableColor() {
	if s.Profile > colorprofile.ASCII {
		s.Profile = colorprofile.ASCII
	}
	if s.ErrProfile > colorprofile.ASCII {
		s.ErrProfile = colorprofile.ASCII
	}
}

// ColorOut is Out through a writer that downsamples or strips escape codes
// to the profile, so pipes and NO_COLOR get plain text.
func (s *IOStreams) ColorOut() io.Writer {
	return &colorprofile.Writer{Forward: s.Out, Profile: s.Profile}
}

// ColorErr is ErrOut, likewise.
func (s *IOStreams) ColorErr() io.Writer {
	return &colorprofile.Writer{Forward: s.ErrOut, Profile: s.ErrProfile}
}

// CanRunTUI reports whether the full-screen view can be drawn: every
// stream is a terminal and the terminal does not call itself dumb (no
// cursor addressing, no alternate screen).
func (s *IOStreams) CanRunTUI() bool {
	return s.InTTY && s.OutTTY && s.ErrTTY && !s.dumbTerminal()
}

func (s *IOStreams) dumbTerminal() bool {
	term := ""
	for _, kv := range s.Env {
		if v, ok := strings.CutPrefix(kv, "TERM="); ok {
			term = v // the last one wins, as in getenv
		}
	}
	return term == "dumb"
}

// TUINoColor reports whether the full-screen view, drawn on ErrOut, must
// not colour: --no-color, $NO_COLOR or a terminal without colour.
func (s *IOStreams) TUINoColor() bool { return s.ErrProfile <= colorprofile.ASCII }

// ColorEnabled reports whether Out shows colour.
func (s *IOStreams) ColorEnabled() bool { return s.Profile > colorprofile.ASCII }

// StartProgress begins a one-line progress display on ErrOut, labelled
// ("Refreshing…"), and reports whether it shows: only a terminal gets one,
// since a log file would collect every redraw. Nothing is drawn until the
// first UpdateProgress.
func (s *IOStreams) StartProgress(label string) bool {
	if !s.ErrTTY {
		return false
	}
	s.progress.mu.Lock()
	defer s.progress.mu.Unlock()
	s.progress.on, s.progress.label = true, label
	return true
}

// UpdateProgress redraws the progress line as the label and the text
// (erasing the line first, so a shorter text leaves no tail). It may be
// called from several goroutines; without StartProgress it does nothing.
func (s *IOStreams) UpdateProgress(format string, args ...any) {
	s.progress.mu.Lock()
	defer s.progress.mu.Unlock()
	if s.progress.on {
		fmt.Fprintf(s.ErrOut, "\r\x1b[2K%s %s", s.progress.label, fmt.Sprintf(format, args...))
	}
}

// StopProgress erases the progress line, so what follows starts at the
// beginning of a clean line.
func (s *IOStreams) StopProgress() {
	s.progress.mu.Lock()
	defer s.progress.mu.Unlock()
	if s.progress.on {
		fmt.Fprint(s.ErrOut, "\r\x1b[2K")
		s.progress.on = false
	}
}

// syncWriter serialises writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// readAllContext reads r (at most limit bytes) but gives up when ctx is
// done: a read of stdin blocks, and Ctrl-C must still end sbctl (exit 130).
func readAllContext(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(io.LimitReader(r, limit))
		ch <- result{b, err}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
