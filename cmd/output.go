package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
	"github.com/spf13/cobra"
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

// Styles for status and text. Basic ANSI colours (red = SGR 31) read well
// on light and dark backgrounds and survive every colour profile.
type styles struct {
	ok, expiring, red, dim, bold, header lipgloss.Style
}

func newStyles() styles {
	return styles{
		ok:       lipgloss.NewStyle().Foreground(lipgloss.Green),
		expiring: lipgloss.NewStyle().Foreground(lipgloss.Yellow),
		red:      lipgloss.NewStyle().Foreground(lipgloss.Red),
		dim:      lipgloss.NewStyle().Faint(true),
		bold:     lipgloss.NewStyle().Bold(true),
		header:   lipgloss.NewStyle().Bold(true),
	}
}

func (s styles) status(st profiles.Status) lipgloss.Style {
	switch st.Tone() {
	case profiles.ToneGood:
		return s.ok
	case profiles.ToneWarn:
		return s.expiring
	case profiles.ToneBad:
		return s.red
	case profiles.ToneMuted:
		return s.dim
	}
	return lipgloss.NewStyle()
}

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

// when formats a time for a column: relative on a terminal, RFC 3339 in a
// pipe, "-" when unknown.
func when(t *time.Time, now time.Time, tty bool) string {
	if t == nil {
		return "-"
	}
	if tty {
		return profiles.RelativeTime(*t, now)
	}
	return t.UTC().Format(time.RFC3339)
}

// whenLong is for detail views: both forms.
func whenLong(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339) + " (" + profiles.RelativeTime(*t, now) + ")"
}
