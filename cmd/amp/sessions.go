package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/urfave/cli/v2"
)

func sessionsCommand() *cli.Command {
	return &cli.Command{
		Name:      "sessions",
		Usage:     "list the sessions and tasks of a recording",
		ArgsUsage: "REC.amp",
		UsageText: "amp sessions REC.amp [-v] [--json]\n\n" +
			"   amp sessions shop.amp            # one line per session\n" +
			"   amp sessions shop.amp -v         # and every task of each\n" +
			"   amp sessions shop.amp --correlations   # tokens and ids replay will substitute\n" +
			"   amp sessions shop.amp --json | jq '.sessions[].tasks | length'",
		Description: "A recording cut short (a crash, kill -9, a full disk) lists every whole record\n" +
			"before the cut and warns on stderr.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "list each session's tasks"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.BoolFlag{Name: "correlations", Aliases: []string{"c"}, Usage: "show the dynamic values replay correlates: where each comes from and where it is sent back"},
		},
		Action: runSessions,
	}
}

func runSessions(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("sessions: want one recording file, got %d arguments (run 'amp sessions --help')", c.NArg())
	}
	path := c.Args().First()
	rec, err := capture.ReadFileWith(path, capture.ReadOptions{SkipDamaged: true})
	// A cut file still lists what came before the cut; anything else is fatal.
	var warn error
	if err != nil {
		if rec == nil || errors.Is(err, capture.ErrCorrupt) {
			if rec != nil {
				_ = printSessions(c.App.Writer, path, rec, listOptions{verbose: c.Bool("verbose"), json: c.Bool("json"), correlations: c.Bool("correlations")})
			}
			return describeReadError(path, err)
		}
		warn = err
	}
	if err := printSessions(c.App.Writer, path, rec, listOptions{verbose: c.Bool("verbose"), json: c.Bool("json"), correlations: c.Bool("correlations")}); err != nil {
		return err
	}
	if warn != nil {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; listed the %d whole records before it\n", readErrorText(path, warn), rec.Exchanges())
	}
	if d := damageText(path, rec); d != "" {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; listed the %d intact records\n", d, rec.Exchanges())
	}
	return nil
}

// describeReadError turns a recording read error into one line naming the file.
func describeReadError(path string, err error) error {
	return &exitError{code: exitBadInput, err: errors.New(readErrorText(path, err))}
}

func readErrorText(path string, err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) && pe.Path == path {
		err = pe.Err
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("%s: no such file", path)
	case errors.Is(err, capture.ErrNotRecording):
		return fmt.Sprintf("%s: not an amp recording (expected a .amp file written by amp record or amp import)", path)
	}
	return fmt.Sprintf("%s: %v", path, err)
}

// sessionsJSON is the --json output of amp sessions.
type sessionsJSON struct {
	File     string        `json:"file"`
	Source   string        `json:"source,omitempty"`
	Created  *time.Time    `json:"created,omitempty"`
	Sessions []sessionJSON `json:"sessions"`
}

type sessionJSON struct {
	ID         string     `json:"id"`
	Client     string     `json:"client"`
	Start      time.Time  `json:"start"`
	DurationMS float64    `json:"duration_ms"`
	Bytes      int64      `json:"bytes"`
	Tasks      []taskJSON `json:"tasks"`
	// Correlations are listed with --correlations.
	Correlations []replay.Rule `json:"correlations,omitempty"`
}

type taskJSON struct {
	Method     string  `json:"method"`
	URL        string  `json:"url"`
	Status     int     `json:"status"`
	AtMS       float64 `json:"at_ms"`
	TTFBMS     float64 `json:"ttfb_ms"`
	DurationMS float64 `json:"duration_ms"`
	Bytes      int64   `json:"bytes"`
	Flags      string  `json:"flags,omitempty"`
	Error      string  `json:"error,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// listOptions are the output switches of amp sessions.
type listOptions struct {
	verbose, json, correlations bool
}

func printSessions(w io.Writer, path string, rec *capture.Recording, opt listOptions) error {
	verbose := opt.verbose
	if opt.json {
		out := sessionsJSON{File: path, Source: rec.Header.Source, Sessions: []sessionJSON{}}
		if !rec.Header.Created.IsZero() {
			out.Created = &rec.Header.Created
		}
		for _, s := range rec.Sessions {
			sj := sessionJSON{ID: s.ID, Client: s.Client(), Start: s.Start(), DurationMS: ms(s.Duration()), Bytes: s.Bytes(), Tasks: []taskJSON{}}
			for _, e := range s.Exchanges {
				sj.Tasks = append(sj.Tasks, taskJSON{
					Method: e.Request.Method, URL: e.Request.URL, Status: e.Response.Status,
					AtMS: ms(e.Start.Sub(s.Start())), TTFBMS: ms(e.TTFB), DurationMS: ms(e.Duration),
					Bytes: e.Bytes(), Flags: e.Flags.String(), Error: e.Error,
				})
			}
			if opt.correlations {
				sj.Correlations = correlationsJSON(replay.Learn(s))
			}
			out.Sessions = append(out.Sessions, sj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}

	if verbose {
		for _, s := range rec.Sessions {
			fmt.Fprintf(w, "session %s  client %s  start %s  duration %s  %d tasks  %s\n", s.ID, s.Client(),
				s.Start().Format("2006-01-02 15:04:05.000"), roundDuration(s.Duration()), len(s.Exchanges), formatBytes(s.Bytes()))
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  AT\tMETHOD\tURL\tSTATUS\tTTFB\tDURATION\tBYTES\tNOTE")
			for _, e := range s.Exchanges {
				status := fmt.Sprint(e.Response.Status)
				if e.Response.Status == 0 {
					status = "-"
				}
				note := e.Flags.String()
				if e.Error != "" {
					note = strings.TrimSpace(note + " " + e.Error)
				}
				fmt.Fprintf(tw, "  +%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", roundDuration(e.Start.Sub(s.Start())), e.Request.Method,
					e.Request.URL, status, roundDuration(e.TTFB), roundDuration(e.Duration), formatBytes(e.Bytes()), note)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(w)
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SESSION\tCLIENT\tSTART\tDURATION\tTASKS\tBYTES")
		for _, s := range rec.Sessions {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", s.ID, s.Client(), s.Start().Format("2006-01-02 15:04:05.000"),
				roundDuration(s.Duration()), len(s.Exchanges), formatBytes(s.Bytes()))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if opt.correlations {
		printCorrelations(w, rec)
	}
	_, err := fmt.Fprintf(w, "%s, %s (%s)\n", plural(len(rec.Sessions), "session"), plural(rec.Exchanges(), "request"), rec.Header.Source)
	return err
}

// roundDuration shows durations with about three significant digits.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Minute:
		return d.Round(time.Second)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d
}

// formatBytes shows a byte count in B, KiB, MiB or GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 2; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMG"[exp])
}

// correlationsJSON returns rules as JSON wants them: never nil.
func correlationsJSON(rules []replay.Rule) []replay.Rule {
	if rules == nil {
		return []replay.Rule{}
	}
	return rules
}

// printCorrelations lists, per session, each learned value: where the
// server sent it and where later requests send it back.
func printCorrelations(w io.Writer, rec *capture.Recording) {
	total := 0
	for _, s := range rec.Sessions {
		rules := replay.Learn(s)
		total += len(rules)
		if len(rules) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nsession %s: %d correlated values\n", s.ID, len(rules))
		task := func(i int) string {
			e := s.Exchanges[i]
			return fmt.Sprintf("#%d %s %s", i+1, e.Request.Method, e.Request.Target())
		}
		for _, r := range rules {
			if r.Source.Task < 0 { // made at replay: by the client, from --data
				fmt.Fprintf(w, "  %-14s %-24q %s\n", r.Name, abbreviate(r.Value, 22), r.Source.Describe())
			} else {
				fmt.Fprintf(w, "  %-14s %-24q from %s: %s\n", r.Name, abbreviate(r.Value, 22), task(r.Source.Task), r.Source.Describe())
			}
			for _, u := range r.Uses {
				fmt.Fprintf(w, "  %-14s %-24s   sent in %s: %s\n", "", "", task(u.Task), u.Where)
			}
		}
	}
	if total == 0 {
		fmt.Fprintln(w, "\nno correlated values: every request can be replayed as recorded")
	}
	fmt.Fprintln(w)
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
