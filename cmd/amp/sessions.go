package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
)

func sessionsCommand() *cli.Command {
	return &cli.Command{
		Name:      "sessions",
		Usage:     "list the sessions and tasks of a recording",
		ArgsUsage: "REC.amp",
		UsageText: "amp sessions REC.amp [-v] [--json] [--all] [--correlations]\n\n" +
			"   amp sessions shop.amp            # one line per session\n" +
			"   amp sessions shop.amp -v         # and every task of each\n" +
			"   amp sessions shop.amp --correlations   # tokens and ids replay will substitute\n" +
			"   amp sessions shop.amp --json | jq '.sessions[].tasks | length'",
		Description: "Sessions are read one at a time, so a recording of any size lists in bounded memory.\n" +
			"A recording of more than 100 sessions lists the first 50, then a summary: the 10 largest\n" +
			"sessions, the 20 most requested endpoints (as templates: /articles/{id}) and the totals;\n" +
			"--all lists every session instead. -v and --json always list every session.\n\n" +
			"A recording cut short (a crash, kill -9, a full disk) lists every whole record\n" +
			"before the cut and warns on stderr. One without an index (cut, or written by an older\n" +
			"amp) is read once to build it, with a progress line, and the index is saved beside it\n" +
			"as REC.amp.idx (see amp index).",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "list each session's tasks"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
			&cli.BoolFlag{Name: "all", Usage: "list every session in the table, not the first 50 and a summary when there are more than 100"},
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
	pass := newPassProgress(c.App.ErrWriter, path)
	f, err := capture.OpenWith(path, capture.OpenOptions{SkipDamaged: true, Progress: pass.update})
	pass.end()
	if f == nil {
		return describeReadError(path, err)
	}
	defer f.Close()
	opt := listOptions{verbose: c.Bool("verbose"), json: c.Bool("json"), correlations: c.Bool("correlations"), all: c.Bool("all")}
	listed, perr := printSessions(c.App.Writer, path, f, opt)
	var re *sessionReadError
	if errors.As(perr, &re) {
		return describeReadError(path, re.err)
	}
	// A cut file still lists what came before the cut; anything else is fatal.
	if err != nil && errors.Is(err, capture.ErrCorrupt) {
		return describeReadError(path, err)
	}
	if perr != nil {
		return perr
	}
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; listed the %d whole records before it\n", readErrorText(path, err), listed)
	}
	if d := damageText(path, &capture.Recording{Damaged: fileDamage(f)}); d != "" {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; listed the %d intact records\n", d, listed)
	}
	return nil
}

// fileDamage returns the damage f skipped in file order, as ReadFile lists
// it (Session finds damage in the order of the sessions).
func fileDamage(f *capture.File) []capture.Damage {
	d := f.Damaged()
	slices.SortStableFunc(d, func(a, b capture.Damage) int { return cmp.Compare(a.Offset, b.Offset) })
	return d
}

// passProgress shows the pass capture.OpenWith makes over a recording
// without an index (an older or cut one) on the status line, once the pass
// has taken longer than after, so that small files stay quiet.
type passProgress struct {
	st    *statusLine
	path  string
	start time.Time
	after time.Duration
	shown bool
}

func newPassProgress(w io.Writer, path string) *passProgress {
	return &passProgress{st: newStatusLine(w, false), path: path, start: time.Now(), after: time.Second}
}

func (p *passProgress) update(done, total int64) {
	if !p.shown && time.Since(p.start) < p.after {
		return
	}
	p.shown = true
	pct := int64(100)
	if total > 0 {
		pct = done * 100 / total
	}
	p.st.show(fmt.Sprintf("amp: %s has no index: reading it once to build one (%s): %d%%", p.path, formatBytes(total), pct))
}

// end removes the line drawn in place, if any.
func (p *passProgress) end() { p.st.clear() }

// sessionReadError is a session that could not be read from the recording,
// as opposed to output that could not be written.
type sessionReadError struct{ err error }

func (e *sessionReadError) Error() string { return e.err.Error() }

// eachSession calls fn with each session of f, in order, read one at a
// time. A session whose every record is damaged (and skipped) is left out,
// as ReadFile leaves it out.
func eachSession(f *capture.File, fn func(s *capture.Session) error) error {
	for i := range f.Sessions() {
		s, err := f.Session(i)
		if err != nil {
			return &sessionReadError{err}
		}
		if len(s.Exchanges) == 0 {
			continue
		}
		if err := fn(s); err != nil {
			return err
		}
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
	Name       string     `json:"name"`
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
	// all lists every session in the table, however many.
	all bool
}

// The table of a big recording: more than summaryAbove sessions list the
// first summaryFirst, then a summary (without --all). A table of every
// session is aligned by blocks of tableBlock rows, so that its text is never
// all held in memory.
const (
	summaryAbove = 100
	summaryFirst = 50
	tableBlock   = 1000
)

// printSessions lists the sessions of f, reading one session at a time. It
// returns the number of exchanges listed; an error reading a session is a
// *sessionReadError, printed after what came before it.
func printSessions(w io.Writer, path string, f *capture.File, opt listOptions) (int, error) {
	listed, sessions := 0, 0
	count := func(s *capture.Session) {
		listed += len(s.Exchanges)
		sessions++
	}
	if opt.json {
		err := printSessionsJSON(w, path, f, opt, count)
		return listed, err
	}

	var err error
	if opt.verbose {
		err = eachSession(f, func(s *capture.Session) error {
			count(s)
			return printVerbose(w, s)
		})
	} else {
		err = printTable(w, f, opt, count)
	}
	if err != nil {
		return listed, err
	}
	if opt.correlations {
		if err := printCorrelations(w, f); err != nil {
			return listed, err
		}
	}
	_, err = fmt.Fprintf(w, "%s, %s (%s)\n", plural(sessions, "session"), plural(listed, "request"), f.Header().Source)
	return listed, err
}

// printSessionsJSON writes sessionsJSON as json.Encoder with a two-space
// indent does, but a session at a time: the head, each session as it is
// read, then the tail. On an error reading a session it ends the JSON
// (valid, with the sessions before) and returns the error.
func printSessionsJSON(w io.Writer, path string, f *capture.File, opt listOptions, count func(*capture.Session)) error {
	hdr := f.Header()
	head := sessionsJSON{File: path, Source: hdr.Source}
	if !hdr.Created.IsZero() {
		head.Created = &hdr.Created
	}
	b, err := json.MarshalIndent(sessionsHeadJSON(head), "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(bytes.TrimSuffix(b, []byte("\n}")))
	bw.WriteString(",\n  \"sessions\": [")
	n := 0
	rerr := eachSession(f, func(s *capture.Session) error {
		count(s)
		b, err := json.MarshalIndent(sessionToJSON(s, opt.correlations), "    ", "  ")
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		bw.WriteString("\n    ")
		bw.Write(b)
		return nil
	})
	if n > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	return rerr
}

// sessionsHeadJSON is sessionsJSON without its sessions: the head of the
// streamed object.
type sessionsHeadJSON struct {
	File     string        `json:"file"`
	Source   string        `json:"source,omitempty"`
	Created  *time.Time    `json:"created,omitempty"`
	Sessions []sessionJSON `json:"-"`
}

func sessionToJSON(s *capture.Session, correlations bool) sessionJSON {
	sj := sessionJSON{ID: s.ID, Name: replay.SessionName(s, nil), Client: s.Client(), Start: s.Start(), DurationMS: ms(s.Duration()), Bytes: s.Bytes(), Tasks: make([]taskJSON, 0, len(s.Exchanges))}
	for _, e := range s.Exchanges {
		sj.Tasks = append(sj.Tasks, taskJSON{
			Method: e.Request.Method, URL: e.Request.URL, Status: e.Response.Status,
			AtMS: ms(e.Start.Sub(s.Start())), TTFBMS: ms(e.TTFB), DurationMS: ms(e.Duration),
			Bytes: e.Bytes(), Flags: e.Flags.String(), Error: e.Error,
		})
	}
	if correlations {
		sj.Correlations = correlationsJSON(replay.Learn(s))
	}
	return sj
}

// printVerbose prints one session and every task of it.
func printVerbose(w io.Writer, s *capture.Session) error {
	fmt.Fprintf(w, "session %s  client %s  start %s  duration %s  %d tasks  %s  %s\n", s.ID, s.Client(),
		s.Start().Format("2006-01-02 15:04:05.000"), roundDuration(s.Duration()), len(s.Exchanges), formatBytes(s.Bytes()), replay.SessionName(s, nil))
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
	_, err := fmt.Fprintln(w)
	return err
}

// sessionRow is one line of the sessions table.
type sessionRow struct {
	id, client, name string
	start            time.Time
	duration         time.Duration
	tasks            int
	bytes            int64
}

func rowOf(s *capture.Session) sessionRow {
	return sessionRow{id: s.ID, client: s.Client(), name: replay.SessionName(s, nil), start: s.Start(), duration: s.Duration(), tasks: len(s.Exchanges), bytes: s.Bytes()}
}

const tableHead = "SESSION\tCLIENT\tSTART\tDURATION\tTASKS\tBYTES\tNAME"

func (r sessionRow) print(w io.Writer) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.id, r.client, r.start.Format("2006-01-02 15:04:05.000"),
		roundDuration(r.duration), r.tasks, formatBytes(r.bytes), r.name)
}

// printTable prints one line per session; for a big recording (without
// --all) the first summaryFirst, then the summary of all.
func printTable(w io.Writer, f *capture.File, opt listOptions, count func(*capture.Session)) error {
	var sum *sessionSummary
	if !opt.all && len(f.Sessions()) > summaryAbove {
		namer, err := stats.NewNamer(nil)
		if err != nil {
			return err
		}
		sum = newSessionSummary(namer)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tableHead)
	rows := 0
	err := eachSession(f, func(s *capture.Session) error {
		count(s)
		if sum != nil {
			sum.add(s)
			if rows >= summaryFirst {
				return nil
			}
		}
		rowOf(s).print(tw)
		if rows++; rows%tableBlock == 0 {
			return tw.Flush()
		}
		return nil
	})
	if ferr := tw.Flush(); err == nil {
		err = ferr
	}
	if err != nil || sum == nil {
		return err
	}
	return sum.print(w, rows)
}

// sessionSummary sums up the sessions of a big recording in bounded
// memory: the largest sessions, the most requested endpoints (at most
// maxEndpoints distinct ones are counted by name, the rest together) and
// the totals.
type sessionSummary struct {
	namer     *stats.Namer
	top       []sessionRow // the largest by tasks, first come first on a tie
	endpoints map[string]int
	max       int // distinct endpoints counted by name: maxEndpoints
	others    int // requests to endpoints beyond max
	sessions  int
	requests  int
	bytes     int64
	first     time.Time
	last      time.Time
	statuses  [6]int // none, 1xx..5xx; anything else counts as none
}

const (
	summaryTop       = 10
	summaryEndpoints = 20
	maxEndpoints     = 10_000
)

func newSessionSummary(namer *stats.Namer) *sessionSummary {
	return &sessionSummary{namer: namer, endpoints: make(map[string]int), max: maxEndpoints}
}

func (m *sessionSummary) add(s *capture.Session) {
	r := rowOf(s)
	m.sessions++
	m.requests += r.tasks
	m.bytes += r.bytes
	if m.first.IsZero() || r.start.Before(m.first) {
		m.first = r.start
	}
	if end := s.End(); end.After(m.last) {
		m.last = end
	}
	if i := sort.Search(len(m.top), func(i int) bool { return m.top[i].tasks < r.tasks }); i < summaryTop {
		if len(m.top) < summaryTop {
			m.top = append(m.top, sessionRow{})
		}
		copy(m.top[i+1:], m.top[i:])
		m.top[i] = r
	}
	for _, e := range s.Exchanges {
		class := e.Response.Status / 100
		if class < 1 || class > 5 {
			class = 0
		}
		m.statuses[class]++
		name := e.Request.Method + " " + m.namer.Name(e.Request.Method, e.Request.URL)
		if _, ok := m.endpoints[name]; ok || len(m.endpoints) < m.max {
			m.endpoints[name]++
		} else {
			m.others++
		}
	}
}

// print prints the summary after the listed sessions.
func (m *sessionSummary) print(w io.Writer, listed int) error {
	fmt.Fprintf(w, "... %s not listed (amp sessions --all lists every one)\n", plural(m.sessions-listed, "session"))

	fmt.Fprintf(w, "\nLARGEST SESSIONS (the %d with most requests)\n", len(m.top))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, tableHead)
	for _, r := range m.top {
		r.print(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	type endpoint struct {
		name string
		n    int
	}
	list := make([]endpoint, 0, len(m.endpoints))
	for name, n := range m.endpoints {
		list = append(list, endpoint{name, n})
	}
	slices.SortFunc(list, func(a, b endpoint) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	distinct := strconv.Itoa(len(list))
	if m.others > 0 {
		distinct = "over " + distinct
	}
	fmt.Fprintf(w, "\nENDPOINTS (%s, by requests)\n", distinct)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "REQUESTS\t\tENDPOINT")
	rest, restN := m.others, 0
	for i, e := range list {
		if i < summaryEndpoints {
			fmt.Fprintf(tw, "%d\t\t%s\n", e.n, e.name)
		} else {
			rest += e.n
			restN++
		}
	}
	switch {
	case m.others > 0:
		fmt.Fprintf(tw, "%d\t\t(the others: %d more counted by name, and those beyond the first %d distinct)\n", rest, restN, m.max)
	case restN > 0:
		fmt.Fprintf(tw, "%d\t\t(%s more)\n", rest, plural(restN, "other endpoint"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	st := m.statuses
	_, err := fmt.Fprintf(w, "\nTOTAL  %s, %s, %s, %s to %s (%s); status 2xx %d, 3xx %d, 4xx %d, 5xx %d, 1xx %d, none %d\n\n",
		plural(m.sessions, "session"), plural(m.requests, "request"), formatBytes(m.bytes),
		m.first.Format("2006-01-02 15:04:05.000"), m.last.Format("2006-01-02 15:04:05.000"), roundDuration(m.last.Sub(m.first)),
		st[2], st[3], st[4], st[5], st[1], st[0])
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
// server sent it and where later requests send it back. It reads the
// sessions of f once more, one at a time.
func printCorrelations(w io.Writer, f *capture.File) error {
	total := 0
	err := eachSession(f, func(s *capture.Session) error {
		rules := replay.Learn(s)
		total += len(rules)
		if len(rules) == 0 {
			return nil
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
		return nil
	})
	if err != nil {
		return err
	}
	if total == 0 {
		fmt.Fprintln(w, "\nno correlated values: every request can be replayed as recorded")
	}
	_, err = fmt.Fprintln(w)
	return err
}

func abbreviate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// printRecorded lists the recording at path as amp sessions -v
// --correlations does, reading it the same way (amp demo).
func printRecorded(w io.Writer, path string) error {
	f, err := capture.Open(path)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("reading back %s: %w", path, err)
	}
	defer f.Close()
	_, err = printSessions(w, path, f, listOptions{verbose: true, correlations: true})
	return err
}
