package stats

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Progress is what the live console shows besides the statistics.
type Progress struct {
	Elapsed  time.Duration // since the start of the run
	Duration time.Duration // planned length; 0 = until stopped
	Users    int           // current simulated users; < 0 = take the series' last value
	Note     string        // a short state, e.g. "spawning users" or "stopping: 12 in flight"
}

// Console renders results for a terminal: a Locust-like table while the run
// goes on (Update, every Interval) and the end-of-run report (Final). On a
// TTY an update redraws the previous one in place; otherwise (a CI log) each
// update is one compact progress line, without escape codes. With SetWidth
// the tables fit a terminal narrower than their wide layout.
type Console struct {
	w     io.Writer
	tty   bool
	width int // columns of the terminal; 0 = unknown (the wide layout)
	lines int // lines of the last update on a TTY

	prev        map[string]int64 // requests and failures by endpoint at the last update
	prevElapsed time.Duration
}

// NewConsole returns a console writing to w; tty tells whether w is a
// terminal.
func NewConsole(w io.Writer, tty bool) *Console {
	return &Console{w: w, tty: tty}
}

// SetWidth tells the console its terminal is cols columns wide (from
// $COLUMNS or the terminal; 0 = unknown). When the wide tables would not fit,
// a narrow layout drops and abbreviates columns to fit cols (a minimum of
// about 90 columns, so 100 always fits).
func (c *Console) SetWidth(cols int) { c.width = max(cols, 0) }

// Interval is how often Update should be called: every 2 s on a terminal,
// every 10 s otherwise (a log gets a line, not a table, each time).
func (c *Console) Interval() time.Duration {
	if c.tty {
		return 2 * time.Second
	}
	return 10 * time.Second
}

// Update shows the live table on a terminal, or a progress line elsewhere.
// Its req/s and failures/s are current rates: those since the previous
// update.
func (c *Console) Update(r *Result, p Progress) error {
	var b strings.Builder
	users := p.Users
	if users < 0 {
		users = 0
		if n := len(r.Series); n > 0 {
			users = r.Series[n-1].Users
		}
	}
	dt := (p.Elapsed - c.prevElapsed).Seconds()
	cur := map[string]int64{}
	rate := func(key string, s *Stats) (float64, float64) {
		cur[key+"\x00r"], cur[key+"\x00f"] = s.Requests, s.Failures
		if c.prev == nil || dt <= 0 {
			return s.RPS, s.FailuresPerSec
		}
		return float64(s.Requests-c.prev[key+"\x00r"]) / dt, float64(s.Failures-c.prev[key+"\x00f"]) / dt
	}
	if !c.tty {
		rps, _ := rate("", &r.Stats)
		c.prev, c.prevElapsed = cur, p.Elapsed
		fmt.Fprintf(&b, "elapsed %s", clock(p.Elapsed))
		if p.Duration > 0 {
			fmt.Fprintf(&b, "/%s", clock(p.Duration))
		}
		fmt.Fprintf(&b, " | users %d | %d requests | %.1f req/s | %s failed | p95 %s ms", users, r.Requests, rps,
			pct(r.FailureRate), fmtMS(r.Latency.P95))
		if p.Note != "" {
			fmt.Fprintf(&b, " | %s", p.Note)
		}
		b.WriteString("\n")
		return c.emit(b.String(), true)
	}
	fmt.Fprintf(&b, "elapsed %s", clock(p.Elapsed))
	if p.Duration > 0 {
		fmt.Fprintf(&b, " / %s (%s left)", clock(p.Duration), clock(max(p.Duration-p.Elapsed, 0)))
	}
	fmt.Fprintf(&b, " | users %d | %d requests | %s failed", users, r.Requests, pct(r.FailureRate))
	if p.Note != "" {
		fmt.Fprintf(&b, " | %s", p.Note)
	}
	b.WriteString("\n")
	c.layout(r).table(&b, r, rate)
	b.WriteString("\n")
	c.prev, c.prevElapsed = cur, p.Elapsed
	return c.emit(b.String(), true)
}

func (c *Console) emit(s string, live bool) error {
	if c.tty && c.lines > 0 {
		s = fmt.Sprintf("\x1b[%dA\x1b[J", c.lines) + s
	}
	c.lines = 0
	if c.tty && live {
		c.lines = strings.Count(s, "\n")
	}
	_, err := io.WriteString(c.w, s)
	return err
}

// Final shows the end-of-run report: the table (average rates over the
// run), the percentiles, the status codes and bytes by endpoint, the
// sessions, the failures by endpoint and reason, the slowdown
// against the recording, skipped tasks, thresholds and a verdict line.
func (c *Console) Final(r *Result) error {
	var b strings.Builder
	c.layout(r).report(&b, r)
	return c.emit(b.String(), false)
}

// WriteReport writes the end-of-run report of r to w as plain text (what
// Console.Final shows), in the wide layout.
func WriteReport(w io.Writer, r *Result) error {
	var b strings.Builder
	wideLayout(r).report(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// layout is how the console's tables are laid out: wide (every column, as
// Locust's) or narrow (fewer, slimmer columns, prose wrapped) to fit width.
type layout struct {
	narrow bool
	width  int // columns the narrow layout fits
	nw     int // width of the Name column
	tw     int // width of the Type column
}

// Widths of the tables other than their Name column, in each layout.
const (
	wideTableRest   = 116
	narrowTableRest = 77
	narrowMinName   = 10
)

func wideLayout(r *Result) layout { return layout{nw: nameWidth(r), tw: 8} }

// layout chooses the narrow layout when the wide table is wider than the
// console's width.
func (c *Console) layout(r *Result) layout {
	l := wideLayout(r)
	if c.width == 0 || l.nw+wideTableRest <= c.width {
		return l
	}
	return layout{narrow: true, width: c.width, nw: max(narrowMinName, min(l.nw, c.width-narrowTableRest)), tw: 6}
}

// prose writes lead and then text, wrapped at the narrow layout's width
// with continuation lines indented by indent spaces.
func (l layout) prose(b *strings.Builder, lead, text string, indent int) {
	b.WriteString(lead)
	if !l.narrow {
		b.WriteString(text + "\n")
		return
	}
	col := utf8.RuneCountInString(lead)
	for i, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case col+1+n > l.width:
			b.WriteString("\n" + strings.Repeat(" ", indent))
			col = indent
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(word)
		col += n
	}
	b.WriteString("\n")
}

func (l layout) report(b *strings.Builder, r *Result) {
	fmt.Fprintf(b, "Run: %s to %s (%s), peak %d users\n\n", r.Start.Format("2006-01-02 15:04:05"),
		r.End.Format("15:04:05 MST"), clock(time.Duration(r.DurationS*float64(time.Second))), r.Users)
	l.table(b, r, func(_ string, s *Stats) (float64, float64) { return s.RPS, s.FailuresPerSec })
	b.WriteString("\n")
	l.percentiles(b, r)
	l.statuses(b, r)
	if len(r.Errors) > 0 {
		b.WriteString("\nFailures\n")
		nw := l.nw
		if l.narrow {
			fmt.Fprintf(b, "%7s  %-*s %-*s  %s\n", "# fails", l.tw, "Type", nw, "Name", "Reason")
			fmt.Fprintf(b, "%s|%s|%s|%s\n", dashes(8), dashes(l.tw+1), dashes(nw+1), dashes(min(40, l.width-nw-l.tw-14)))
		} else {
			fmt.Fprintf(b, "%13s  %-8s %-*s  %s\n", "# occurrences", "Type", nw, "Name", "Reason")
			fmt.Fprintf(b, "%s|%s|%s|%s\n", dashes(14), dashes(9), dashes(nw+1), dashes(40))
		}
		for _, e := range r.Errors {
			reason := e.Reason
			if e.Sample != "" {
				reason += fmt.Sprintf(" (e.g. %q)", e.Sample)
			}
			if l.narrow {
				fmt.Fprintf(b, "%7d  %-*s %-*s  %s\n", e.Count, l.tw, e.Method, nw, fit(e.Name, nw), fitRunes(reason, l.width-nw-l.tw-12))
			} else {
				fmt.Fprintf(b, "%13d  %-8s %-*s  %s\n", e.Count, e.Method, nw, fit(e.Name, nw), reason)
			}
		}
	}
	l.slowdown(b, r)
	l.journeys(b, r)
	if len(r.Skipped) > 0 {
		b.WriteString("\nSkipped (not sent)\n")
		for _, k := range sortedKeys(r.Skipped) {
			l.prose(b, fmt.Sprintf("%13d  ", r.Skipped[k]), k, 15)
		}
	}
	if r.Dropped > 0 {
		b.WriteString("\n")
		l.prose(b, "", fmt.Sprintf("Dropped: %d arrivals did not start: the cap on users was reached (the target is slower than the arrivals, or the cap too low)", r.Dropped), 2)
	}
	if r.Requests > 0 {
		b.WriteString("\n")
		l.prose(b, "", fmt.Sprintf("Latency counts from each task's intended start. Service time (from the actual send): "+
			"p50 %s ms, p95 %s ms, p99 %s ms, max %s ms.",
			fmtMS(r.Service.P50), fmtMS(r.Service.P95), fmtMS(r.Service.P99), fmtMS(r.Service.Max)), 0)
		if r.Late > 0 {
			l.prose(b, "", fmt.Sprintf("%d tasks (%s) were sent more than %v after their intended start: their latency counts that wait.",
				r.Late, pct(float64(r.Late)/float64(r.Requests)), LateAfter), 0)
		}
	}
	if len(r.Thresholds) > 0 {
		b.WriteString("\nThresholds\n")
		for _, t := range r.Thresholds {
			mark := "  ok    "
			if !t.Pass {
				mark = "  FAIL  "
			}
			l.prose(b, mark, t.Message, 8)
		}
	}
	_, line := r.Verdict()
	b.WriteString("\n")
	l.prose(b, "", line, 2)
}

// rateFunc returns the req/s and failures/s to show for an endpoint (key is
// "METHOD name", or "" for the totals).
type rateFunc func(key string, s *Stats) (rps, fps float64)

func (l layout) table(b *strings.Builder, r *Result, rate rateFunc) {
	nw := l.nw
	if l.narrow {
		// Avg, Min and failures/s go; Max moves after the percentiles.
		fmt.Fprintf(b, "%-6s %-*s %7s %14s | %6s %6s %6s %6s | %7s %6s\n",
			"Type", nw, "Name", "# reqs", "# fails", "Med", "p95", "p99", "Max", "req/s", "slow")
		sep := fmt.Sprintf("%s|%s|%s|%s|%s|%s\n", dashes(6), dashes(nw+1), dashes(8), dashes(15), dashes(7*4), dashes(7+7))
		b.WriteString(sep)
		row := func(typ, name, key string, s *Stats) {
			rps, _ := rate(key, s)
			slow := "-"
			if s.Slowdown != nil {
				slow = strconv.FormatFloat(s.Slowdown.P50, 'f', 2, 64) + "x"
			}
			lat := s.Latency
			if s.Requests == 0 {
				lat = Latency{}
			}
			fmt.Fprintf(b, "%-6s %-*s %7d %14s | %6s %6s %6s %6s | %7.1f %6s\n",
				typ, nw, fit(name, nw), s.Requests, fmt.Sprintf("%d(%s)", s.Failures, pct(s.FailureRate)),
				fmtMS(lat.P50), fmtMS(lat.P95), fmtMS(lat.P99), fmtMS(lat.Max), rps, slow)
		}
		for i := range r.Endpoints {
			e := &r.Endpoints[i]
			row(e.Method, e.Name, e.Label(), &e.Stats)
		}
		b.WriteString(sep)
		row("", "Aggregated", "", &r.Stats)
		return
	}
	fmt.Fprintf(b, "%-8s %-*s %8s %14s | %7s %7s %7s %7s %7s %7s | %8s %10s | %8s\n",
		"Type", nw, "Name", "# reqs", "# fails", "Avg", "Min", "Max", "Med", "p95", "p99", "req/s", "failures/s", "slowdown")
	sep := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s\n", dashes(8), dashes(nw+1), dashes(9), dashes(15),
		dashes(8*6), dashes(21), dashes(9))
	b.WriteString(sep)
	row := func(typ, name, key string, s *Stats) {
		rps, fps := rate(key, s)
		fails := fmt.Sprintf("%d(%s)", s.Failures, pct(s.FailureRate))
		slow := "-"
		if s.Slowdown != nil {
			slow = strconv.FormatFloat(s.Slowdown.P50, 'f', 2, 64) + "x"
		}
		l := s.Latency
		if s.Requests == 0 {
			l = Latency{}
		}
		fmt.Fprintf(b, "%-8s %-*s %8d %14s | %7s %7s %7s %7s %7s %7s | %8.2f %10.2f | %8s\n",
			typ, nw, fit(name, nw), s.Requests, fails, fmtMS(l.Avg), fmtMS(l.Min), fmtMS(l.Max),
			fmtMS(l.P50), fmtMS(l.P95), fmtMS(l.P99), rps, fps, slow)
	}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		row(e.Method, e.Name, e.Label(), &e.Stats)
	}
	b.WriteString(sep)
	row("", "Aggregated", "", &r.Stats)
}

// narrowPercentiles are the percentiles the narrow layout keeps, when
// configured.
func narrowPercentiles() []float64 { return []float64{50, 75, 90, 95, 99, 99.9, 100} }

func (l layout) percentiles(b *strings.Builder, r *Result) {
	nw, tw, cw := l.nw, l.tw, 7
	pcts := r.Percentiles
	if l.narrow {
		cw = 6
		var keep []float64
		wanted := narrowPercentiles()
		for _, p := range pcts {
			if slices.Contains(wanted, p) {
				keep = append(keep, p)
			}
		}
		if len(keep) == 0 {
			keep = pcts
		}
		fitN := max((l.width-tw-nw-1-(cw+2))/(cw+1), 1)
		pcts = keep[:min(len(keep), fitN)]
	}
	b.WriteString("Response time percentiles (ms, from the intended start; within 0.1%)\n")
	fmt.Fprintf(b, "%-*s %-*s", tw, "Type", nw, "Name")
	for _, p := range pcts {
		fmt.Fprintf(b, " %*s", cw, pctName(p)+"%")
	}
	fmt.Fprintf(b, " %*s\n", cw+1, "# reqs")
	sep := fmt.Sprintf("%s|%s|%s|%s\n", dashes(tw), dashes(nw+1), dashes((cw+1)*len(pcts)-1), dashes(cw+2))
	b.WriteString(sep)
	row := func(typ, name string, s *Stats) {
		fmt.Fprintf(b, "%-*s %-*s", tw, typ, nw, fit(name, nw))
		for _, p := range pcts {
			v := "N/A"
			if s.Requests > 0 {
				v = fmtMS(s.Latency.At(p))
			}
			fmt.Fprintf(b, " %*s", cw, v)
		}
		fmt.Fprintf(b, " %*d\n", cw+1, s.Requests)
	}
	for i := range r.Endpoints {
		row(r.Endpoints[i].Method, r.Endpoints[i].Name, &r.Endpoints[i].Stats)
	}
	b.WriteString(sep)
	row("", "Aggregated", &r.Stats)
}

func (l layout) slowdown(b *strings.Builder, r *Result) {
	any := false
	for _, e := range r.Endpoints {
		any = any || e.Slowdown != nil
	}
	if !any {
		return
	}
	nw, tw := l.nw, l.tw
	b.WriteString("\nSlowdown vs the recording (service time, replayed / recorded)\n")
	fmt.Fprintf(b, "%-*s %-*s %9s %9s %7s | %9s %9s %7s\n", tw, "Type", nw, "Name", "rec p50", "now p50", "x", "rec p95", "now p95", "x")
	sep := fmt.Sprintf("%s|%s|%s|%s\n", dashes(tw), dashes(nw+1), dashes(28), dashes(28))
	b.WriteString(sep)
	row := func(typ, name string, s *Stats) {
		d := s.Slowdown
		if d == nil {
			return
		}
		fmt.Fprintf(b, "%-*s %-*s %9s %9s %6.2fx | %9s %9s %6.2fx\n", tw, typ, nw, fit(name, nw),
			fmtMS(d.RecordedP50MS), fmtMS(d.ReplayedP50MS), d.P50, fmtMS(d.RecordedP95MS), fmtMS(d.ReplayedP95MS), d.P95)
	}
	for i := range r.Endpoints {
		row(r.Endpoints[i].Method, r.Endpoints[i].Name, &r.Endpoints[i].Stats)
	}
	if r.Slowdown != nil {
		b.WriteString(sep)
		row("", "Aggregated", &r.Stats)
	}
}

// Verdict sums the run up in one line and tells whether it passed. With
// thresholds, it passed when all held. Without, it is judged on failures
// and slowdown: OK below 1 % failures and a p95 slowdown under 2x, DEGRADED
// up to 5 % failures, FAILING beyond; a run without requests has NO DATA.
func (r *Result) Verdict() (pass bool, line string) {
	summary := fmt.Sprintf("%d requests, %s failed", r.Requests, pct(r.FailureRate))
	if n := r.failuresOfKind(Threshold{Agg: "differs"}); n > 0 {
		summary += fmt.Sprintf(" (%d unlike the recording)", n)
	}
	summary += fmt.Sprintf(", p95 %s ms", fmtMS(r.Latency.P95))
	if r.Slowdown != nil {
		summary += fmt.Sprintf(", p95 %.2fx the recording", r.Slowdown.P95)
	}
	if len(r.Thresholds) > 0 {
		failed := r.ThresholdsFailed()
		if len(failed) == 0 {
			return true, fmt.Sprintf("PASS: all %d thresholds held; %s.", len(r.Thresholds), summary)
		}
		var names []string
		for _, t := range failed {
			names = append(names, t.Expr)
		}
		return false, fmt.Sprintf("FAIL: %d of %d thresholds failed (%s); %s.", len(failed), len(r.Thresholds),
			strings.Join(names, ", "), summary)
	}
	switch {
	case r.Requests == 0:
		return false, "NO DATA: no request finished."
	case r.FailureRate >= 0.05:
		return false, "FAILING: " + summary + "."
	case r.FailureRate >= 0.01 || r.Slowdown != nil && r.Slowdown.P95 >= 2:
		return false, "DEGRADED: " + summary + "."
	}
	return true, "OK: " + summary + "."
}

func nameWidth(r *Result) int {
	w := len("Aggregated")
	for _, e := range r.Endpoints {
		w = max(w, len(e.Name))
	}
	for _, e := range r.Errors {
		w = max(w, len(e.Name))
	}
	return min(w, 60)
}

// fitRunes cuts s to w characters, ending in "…" when cut.
func fitRunes(s string, w int) string {
	if utf8.RuneCountInString(s) <= w {
		return s
	}
	rs := []rune(s)
	return string(rs[:max(w-1, 0)]) + "…"
}

// fit cuts s to width w, ending in "..." when cut.
func fit(s string, w int) string {
	if len(s) <= w {
		return s
	}
	return s[:w-3] + "..."
}

func dashes(n int) string { return strings.Repeat("-", max(n, 0)) }

// pct formats a 0..1 rate as a percentage with two decimals.
func pct(rate float64) string { return strconv.FormatFloat(rate*100, 'f', 2, 64) + "%" }

// clock formats a duration as [h:]mm:ss.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// journeys writes the totals of each journey, when the run had journeys.
func (l layout) journeys(b *strings.Builder, r *Result) {
	if len(r.Journeys) == 0 {
		return
	}
	nw := 7
	for _, j := range r.Journeys {
		nw = max(nw, utf8.RuneCountInString(j.Name))
	}
	if l.narrow {
		nw = min(nw, max(narrowMinName, l.width-60))
	}
	b.WriteString("\nJourneys\n")
	fmt.Fprintf(b, "%-*s %9s %8s %8s %8s %8s %8s\n", nw, "Journey", "# reqs", "# fails", "req/s", "p50 ms", "p95 ms", "p99 ms")
	for _, j := range r.Journeys {
		fmt.Fprintf(b, "%-*s %9d %8d %8.1f %8s %8s %8s\n", nw, fitRunes(j.Name, nw), j.Requests, j.Failures, j.RPS,
			fmtMS(j.Latency.P50), fmtMS(j.Latency.P95), fmtMS(j.Latency.P99))
	}
}
