package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ampload/amp/replay"
)

// printData lists, for --dry-run, the data file's rows and which recorded
// values its columns take the place of, with the sessions that send them.
func printData(w io.Writer, cfg replay.Config, bindings [][]replay.DataBinding) {
	d := cfg.Data
	if d == nil {
		return
	}
	fmt.Fprintf(w, "data %s: %d rows of %s (--data-mode %s)\n", d.Path, len(d.Rows), strings.Join(d.Columns, ", "), cfg.DataMode)
	type use struct {
		b        replay.DataBinding
		sessions int
	}
	var uses []use
	for _, bs := range bindings {
	next:
		for _, b := range bs {
			for i := range uses {
				if uses[i].b == b {
					uses[i].sessions++
					continue next
				}
			}
			uses = append(uses, use{b, 1})
		}
	}
	for _, col := range d.Columns {
		for _, u := range uses {
			if u.b.Column == col {
				fmt.Fprintf(w, "  %-20s replaces %q, sent as %s %s in %d session(s)\n", col, u.b.Value, u.b.Where, u.b.Name, u.sessions)
			}
		}
	}
	fmt.Fprintln(w)
}
