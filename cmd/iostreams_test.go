package cmd

import (
	"testing"
)

// The progress line is drawn only on a terminal, erased before each
// redraw and once at the end, so what follows starts on a clean line.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	ios, _, out, errOut := Test()
	ios.ErrTTY = true
	if !ios.StartProgress("Refreshing…") {
		t.Fatal("StartProgress on a terminal reported no progress line")
	}
	ios.UpdateProgress("%d/%d", 1, 3)
	ios.UpdateProgress("%d/%d", 3, 3)
	ios.StopProgress()
	ios.StopProgress() // a second stop draws nothing
	want := "\r\x1b[2KRefreshing… 1/3\r\x1b[2KRefreshing… 3/3\r\x1b[2K"
	if got := errOut.String(); got != want {
		t.Errorf("stderr %q\nwant   %q", got, want)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q: progress belongs on stderr", out)
	}
	ios.UpdateProgress("%d/%d", 4, 3) // after Stop: nothing
	if errOut.String() != want {
		t.Errorf("an update after StopProgress drew %q", errOut.String()[len(want):])
	}
}

// In a pipe or a log file every redraw would be kept: no progress at all.
func TestProgressLineNotInAPipe(t *testing.T) {
	t.Parallel()
	ios, _, _, errOut := Test()
	if ios.StartProgress("Refreshing…") {
		t.Error("StartProgress reported a progress line without a terminal")
	}
	ios.UpdateProgress("%d/%d", 1, 3)
	ios.StopProgress()
	if errOut.Len() != 0 {
		t.Errorf("stderr %q, want nothing", errOut)
	}
}
