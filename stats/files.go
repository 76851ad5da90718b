package stats

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ampload/amp/internal/outfile"
)

// Files are the result files a command was asked to write; an empty field
// is not written.
type Files struct {
	JSON string // the result as JSON (Result.WriteJSON)
	CSV  string // the prefix of Locust's four CSV files (WriteCSV); directories in it are created
	HTML string // the HTML report (WriteHTML)
	// Bands are the HTML report's latency band limits (HTMLOptions.Bands).
	Bands []time.Duration

	JUnit   string    // JUnit XML of the thresholds and checks (WriteJUnit)
	Summary string    // a Markdown summary (WriteSummary), appended to the file if it exists
	CI      CIOptions // how JUnit and Summary judge the run
}

// Outputs lists every file f writes, named by their flags, for
// outfile.Plan.Check before a run.
func (f Files) Outputs() []outfile.Output {
	outs := []outfile.Output{{Flag: "--json", Path: f.JSON}, {Flag: "--html", Path: f.HTML},
		{Flag: "--junit", Path: f.JUnit}, {Flag: "--summary", Path: f.Summary}}
	if f.CSV != "" {
		for _, s := range append(CSVSuffixes(), JourneysCSV, TrafficCSV) {
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
		if e := writeFileAtomic(f.JSON, r.WriteJSON); e != nil {
			errs = append(errs, fmt.Errorf("--json %s: %w", f.JSON, e))
		} else {
			written = append(written, "result: "+f.JSON)
		}
	}
	if f.CSV != "" {
		if e := writeCSVFiles(f.CSV, r); e != nil {
			errs = append(errs, fmt.Errorf("--csv %s: %w", f.CSV, e))
		} else {
			p := f.CSV
			written = append(written, fmt.Sprintf("csv: %s_stats.csv, %s_stats_history.csv, %s_failures.csv, %s_exceptions.csv, %s%s", p, p, p, p, p, TrafficCSV))
		}
	}
	if f.HTML != "" {
		if e := writeFileAtomic(f.HTML, func(w io.Writer) error { return WriteHTMLOptions(w, r, HTMLOptions{Bands: f.Bands}) }); e != nil {
			errs = append(errs, fmt.Errorf("--html %s: %w", f.HTML, e))
		} else {
			written = append(written, "report: "+f.HTML)
		}
	}
	if f.JUnit != "" {
		if e := writeFileAtomic(f.JUnit, func(w io.Writer) error { return WriteJUnit(w, r, f.CI) }); e != nil {
			errs = append(errs, fmt.Errorf("--junit %s: %w", f.JUnit, e))
		} else {
			written = append(written, "junit: "+f.JUnit)
		}
	}
	if f.Summary != "" {
		if e := outfile.Append(f.Summary, 0o644, func(w io.Writer) error { return WriteSummary(w, r, f.CI) }); e != nil {
			errs = append(errs, fmt.Errorf("--summary %s: %w", f.Summary, e))
		} else {
			written = append(written, "summary: "+f.Summary+" (appended)")
		}
	}
	return written, errors.Join(errs...)
}

// writeCSVFiles writes Locust's four CSV files, prefix + each of
// CSVSuffixes, and amp's TrafficCSV (and JourneysCSV with journeys),
// creating the directories in prefix.
func writeCSVFiles(prefix string, r *Result) error {
	if dir := filepath.Dir(prefix); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	suffixes := append(CSVSuffixes(), TrafficCSV)
	if len(r.Journeys) > 0 {
		suffixes = append(suffixes, JourneysCSV)
	}
	for _, suffix := range suffixes {
		if err := writeFileAtomic(prefix+suffix, func(w io.Writer) error { return WriteCSV(w, r, suffix) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same
// directory, renamed over path once complete.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	return outfile.Write(path, 0o644, write)
}
