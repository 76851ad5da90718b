package stats

import (
	"errors"
	"fmt"
	"io"

	"github.com/ampload/amp/internal/outfile"
)

// CSVSuffixes are the endings of the four files WriteCSV writes after its
// prefix.
func CSVSuffixes() []string {
	return []string{"_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"}
}

// Files are the result files a command was asked to write; an empty field
// is not written.
type Files struct {
	JSON string // the result as JSON (WriteJSONFile)
	CSV  string // the prefix of Locust's four CSV files (WriteCSV)
	HTML string // the HTML report (WriteHTMLFile)
}

// Outputs lists every file f writes, named by their flags, for
// outfile.Plan.Check before a run.
func (f Files) Outputs() []outfile.Output {
	outs := []outfile.Output{{Flag: "--json", Path: f.JSON}, {Flag: "--html", Path: f.HTML}}
	if f.CSV != "" {
		for _, s := range CSVSuffixes() {
			outs = append(outs, outfile.Output{Flag: "--csv", Path: f.CSV + s})
		}
	}
	return outs
}

// Write writes every file asked for, each atomically, and returns a line
// per file written. One that fails does not stop the others: the error
// joins one line per failed file, naming its flag.
func (f Files) Write(r *Result) (written []string, err error) {
	var errs []error
	if f.JSON != "" {
		if e := r.WriteJSONFile(f.JSON); e != nil {
			errs = append(errs, fmt.Errorf("--json %s: %w", f.JSON, e))
		} else {
			written = append(written, "result: "+f.JSON)
		}
	}
	if f.CSV != "" {
		if e := WriteCSV(f.CSV, r); e != nil {
			errs = append(errs, fmt.Errorf("--csv %s: %w", f.CSV, e))
		} else {
			p := f.CSV
			written = append(written, fmt.Sprintf("csv: %s_stats.csv, %s_stats_history.csv, %s_failures.csv, %s_exceptions.csv", p, p, p, p))
		}
	}
	if f.HTML != "" {
		if e := WriteHTMLFile(f.HTML, r); e != nil {
			errs = append(errs, fmt.Errorf("--html %s: %w", f.HTML, e))
		} else {
			written = append(written, "report: "+f.HTML)
		}
	}
	return written, errors.Join(errs...)
}

// WriteJSONFile writes the result to path, replacing it only once the whole
// file is written.
func (r *Result) WriteJSONFile(path string) error {
	return writeFileAtomic(path, func(w io.Writer) error { return r.WriteJSON(w) })
}

// writeFileAtomic writes path through a temporary file in the same
// directory, renamed over path once complete.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	return outfile.Write(path, 0o644, write)
}
