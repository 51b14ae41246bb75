package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/spf13/cobra"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/sbctl/sbctl/profiles"
)

// Output formats for -o.
const (
	formatTable = "table"
	formatJSON  = "json"
	formatYAML  = "yaml"
)

var formats = []string{formatTable, formatJSON, formatYAML}

// addFormatFlag registers -o/--output.
func addFormatFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVarP(dst, "output", "o", formatTable, "output format: table, json or yaml")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

func checkFormat(f string) error {
	if slices.Contains(formats, f) {
		return nil
	}
	return usageErr("unknown output format %q: use table, json or yaml", f)
}

// printList writes a list as JSON or YAML; reports false for table. JSON is
// streamed element by element, so memory and time stay linear in the
// number of profiles (json.Encoder with SetIndent would build the whole
// document, then indent a copy of it).
func printList[T any](w io.Writer, format string, items []T) (bool, error) {
	if format != formatJSON {
		return printData(w, format, items)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if len(items) == 0 {
		bw.WriteString("[]\n")
		return true, bw.Flush()
	}
	bw.WriteString("[\n")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("  ", "  ")
	enc.SetEscapeHTML(false)
	for i := range items {
		buf.Reset()
		if err := enc.Encode(&items[i]); err != nil {
			return true, err
		}
		bw.WriteString("  ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if i < len(items)-1 {
			bw.WriteString(",\n")
		} else {
			bw.WriteString("\n")
		}
	}
	bw.WriteString("]\n")
	return true, bw.Flush()
}

// printData writes v as JSON or YAML; reports false for table.
func printData(w io.Writer, format string, v any) (bool, error) {
	switch format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // URLs with <placeholders> and & stay readable
		return true, enc.Encode(v)
	case formatYAML:
		enc := yaml.NewEncoder(w)
		enc.SetIndent(2)
		if err := enc.Encode(v); err != nil {
			return true, err
		}
		return true, enc.Close()
	}
	return false, nil
}

// styles are the CLI's text styles. Basic ANSI colours (red = SGR 31) read
// well on light and dark backgrounds and survive every colour profile.
// The fields are named by meaning, after profiles.Tone; tone is the one
// map from a tone to a style (SPEC §4: red for expired and needs_reauth,
// yellow for expiring, green for ok, dim for not_connected).
type styles struct {
	good, warn, bad, muted, bold lipgloss.Style
}

func newStyles() styles {
	return styles{
		good:  lipgloss.NewStyle().Foreground(lipgloss.Green),
		warn:  lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		bad:   lipgloss.NewStyle().Foreground(lipgloss.Red),
		muted: lipgloss.NewStyle().Faint(true),
		bold:  lipgloss.NewStyle().Bold(true),
	}
}

// tone is the style of a profiles.Tone.
func (s styles) tone(t profiles.Tone) lipgloss.Style {
	switch t {
	case profiles.ToneGood:
		return s.good
	case profiles.ToneWarn:
		return s.warn
	case profiles.ToneBad:
		return s.bad
	case profiles.ToneMuted:
		return s.muted
	}
	return lipgloss.NewStyle()
}

// status is the style of a status word.
func (s styles) status(st profiles.Status) lipgloss.Style { return s.tone(st.Tone()) }

// renderTable lays rows out in columns. On a terminal the header is bold
// and underlined by a rule and cells may be styled by cellStyle; in a pipe
// it is plain aligned text. Widths count display cells, so Japanese names
// line up.
func renderTable(w io.Writer, tty bool, headers []string, rows [][]string, cellStyle func(row, col int) lipgloss.Style) error {
	ncols := len(headers)
	if len(rows) > 0 {
		ncols = max(ncols, len(rows[0]))
	}
	t := table.New().
		Headers(headers...).
		Rows(rows...).
		BorderTop(false).BorderBottom(false).BorderLeft(false).BorderRight(false).
		BorderColumn(false).BorderRow(false).BorderHeader(tty && len(headers) > 0).
		Border(lipgloss.NormalBorder()).
		Wrap(false).
		StyleFunc(func(row, col int) lipgloss.Style {
			st := lipgloss.NewStyle()
			if row == table.HeaderRow {
				if tty {
					st = st.Bold(true)
				}
			} else if cellStyle != nil {
				st = cellStyle(row, col)
			}
			if col < ncols-1 {
				st = st.PaddingRight(2)
			}
			return st
		})
	if tty {
		t = t.BorderStyle(lipgloss.NewStyle().Faint(true))
	}
	out := t.String()
	// Trailing spaces from padding help nobody and upset diff tools.
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := fmt.Fprintln(w, strings.Join(lines, "\n"))
	return err
}

// TerminalWidth is how many columns a table on Out may take: $COLUMNS when
// it is set (a user's choice, and how tests size a fake terminal), else
// the terminal's width. 0 when Out is not a terminal or its width is
// unknown: no limit, so a pipe gets the whole table for scripts to parse.
func (s *IOStreams) TerminalWidth() int {
	if !s.OutTTY {
		return 0
	}
	return terminalWidth(s.Out, s.Env)
}

// errTerminalWidth is the same for ErrOut.
func (s *IOStreams) errTerminalWidth() int {
	if !s.ErrTTY {
		return 0
	}
	return terminalWidth(s.ErrOut, s.Env)
}

func terminalWidth(w io.Writer, env []string) int {
	cols := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "COLUMNS="); ok {
			cols = v // the last one wins, as in getenv
		}
	}
	if n, err := strconv.Atoi(cols); err == nil && n > 0 {
		return n
	}
	if f, ok := w.(*os.File); ok {
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	return 0
}
