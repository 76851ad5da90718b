package stats

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Progress is what the live console shows besides the statistics.
type Progress struct {
	Elapsed  time.Duration // since the start of the run
	Duration time.Duration // planned length; 0 = until stopped
	Users    int           // current simulated users; < 0 = take the series' last value
	Note     string        // a short state, e.g. "spawning users" or "stopping: 12 in flight"
}

// Console renders results for a terminal: a Locust-like table while the run
// goes on (Update, every 2 s) and the end-of-run report (Final). On a TTY an
// update redraws the previous one in place; otherwise each update is
// appended as plain lines, without escape codes.
type Console struct {
	w     io.Writer
	tty   bool
	lines int // lines of the last update on a TTY

	prev        map[string]int64 // requests and failures by endpoint at the last update
	prevElapsed time.Duration
}

// NewConsole returns a console writing to w; tty tells whether w is a
// terminal.
func NewConsole(w io.Writer, tty bool) *Console {
	return &Console{w: w, tty: tty}
}

// Update shows the live table. Its req/s and failures/s are current rates:
// those since the previous update.
func (c *Console) Update(r *Result, p Progress) error {
	var b strings.Builder
	users := p.Users
	if users < 0 {
		users = 0
		if n := len(r.Series); n > 0 {
			users = r.Series[n-1].Users
		}
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

	dt := (p.Elapsed - c.prevElapsed).Seconds()
	cur := map[string]int64{}
	rate := func(key string, s *Stats) (float64, float64) {
		cur[key+"\x00r"], cur[key+"\x00f"] = s.Requests, s.Failures
		if c.prev == nil || dt <= 0 {
			return s.RPS, s.FailuresPerSec
		}
		return float64(s.Requests-c.prev[key+"\x00r"]) / dt, float64(s.Failures-c.prev[key+"\x00f"]) / dt
	}
	writeTable(&b, r, rate)
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
// run), the percentiles, the failures by endpoint and reason, the slowdown
// against the recording, skipped tasks, thresholds and a verdict line.
func (c *Console) Final(r *Result) error {
	var b strings.Builder
	writeReport(&b, r)
	return c.emit(b.String(), false)
}

// WriteReport writes the end-of-run report of r to w as plain text (what
// Console.Final shows).
func WriteReport(w io.Writer, r *Result) error {
	var b strings.Builder
	writeReport(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeReport(b *strings.Builder, r *Result) {
	fmt.Fprintf(b, "Run: %s to %s (%s), peak %d users\n\n", r.Start.Format("2006-01-02 15:04:05"),
		r.End.Format("15:04:05 MST"), clock(time.Duration(r.DurationS*float64(time.Second))), r.Users)
	writeTable(b, r, func(_ string, s *Stats) (float64, float64) { return s.RPS, s.FailuresPerSec })
	b.WriteString("\n")
	writePercentiles(b, r)
	if len(r.Errors) > 0 {
		b.WriteString("\nFailures\n")
		nw := nameWidth(r)
		fmt.Fprintf(b, "%13s  %-8s %-*s  %s\n", "# occurrences", "Type", nw, "Name", "Reason")
		fmt.Fprintf(b, "%s|%s|%s|%s\n", dashes(14), dashes(9), dashes(nw+1), dashes(40))
		for _, e := range r.Errors {
			reason := e.Reason
			if e.Sample != "" {
				reason += fmt.Sprintf(" (e.g. %q)", e.Sample)
			}
			fmt.Fprintf(b, "%13d  %-8s %-*s  %s\n", e.Count, e.Method, nw, fit(e.Name, nw), reason)
		}
	}
	writeSlowdown(b, r)
	if len(r.Skipped) > 0 {
		b.WriteString("\nSkipped (not sent)\n")
		for _, k := range sortedKeys(r.Skipped) {
			fmt.Fprintf(b, "%13d  %s\n", r.Skipped[k], k)
		}
	}
	if r.Dropped > 0 {
		fmt.Fprintf(b, "\nDropped: %d arrivals did not start: the cap on users was reached (the target is slower than the arrivals, or the cap too low)\n", r.Dropped)
	}
	if r.Requests > 0 {
		fmt.Fprintf(b, "\nLatency counts from each task's intended start. Service time (from the actual send): "+
			"p50 %s ms, p95 %s ms, p99 %s ms, max %s ms.\n",
			fmtMS(r.Service.P50), fmtMS(r.Service.P95), fmtMS(r.Service.P99), fmtMS(r.Service.Max))
		if r.Late > 0 {
			fmt.Fprintf(b, "%d tasks (%s) were sent more than %v after their intended start: their latency counts that wait.\n",
				r.Late, pct(float64(r.Late)/float64(r.Requests)), LateAfter)
		}
	}
	if len(r.Thresholds) > 0 {
		b.WriteString("\nThresholds\n")
		for _, t := range r.Thresholds {
			mark := "  ok    "
			if !t.Pass {
				mark = "  FAIL  "
			}
			fmt.Fprintf(b, "%s%s\n", mark, t.Message)
		}
	}
	_, line := r.Verdict()
	fmt.Fprintf(b, "\n%s\n", line)
}

// rateFunc returns the req/s and failures/s to show for an endpoint (key is
// "METHOD name", or "" for the totals).
type rateFunc func(key string, s *Stats) (rps, fps float64)

func writeTable(b *strings.Builder, r *Result, rate rateFunc) {
	nw := nameWidth(r)
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

func writePercentiles(b *strings.Builder, r *Result) {
	nw := nameWidth(r)
	b.WriteString("Response time percentiles (ms, from the intended start; within 0.1%)\n")
	fmt.Fprintf(b, "%-8s %-*s", "Type", nw, "Name")
	for _, p := range r.Percentiles {
		fmt.Fprintf(b, " %7s", pctName(p)+"%")
	}
	fmt.Fprintf(b, " %8s\n", "# reqs")
	sep := fmt.Sprintf("%s|%s|%s|%s\n", dashes(8), dashes(nw+1), dashes(8*len(r.Percentiles)-1), dashes(9))
	b.WriteString(sep)
	row := func(typ, name string, s *Stats) {
		fmt.Fprintf(b, "%-8s %-*s", typ, nw, fit(name, nw))
		for _, p := range r.Percentiles {
			v := "N/A"
			if s.Requests > 0 {
				v = fmtMS(s.Latency.At(p))
			}
			fmt.Fprintf(b, " %7s", v)
		}
		fmt.Fprintf(b, " %8d\n", s.Requests)
	}
	for i := range r.Endpoints {
		row(r.Endpoints[i].Method, r.Endpoints[i].Name, &r.Endpoints[i].Stats)
	}
	b.WriteString(sep)
	row("", "Aggregated", &r.Stats)
}

func writeSlowdown(b *strings.Builder, r *Result) {
	any := false
	for _, e := range r.Endpoints {
		any = any || e.Slowdown != nil
	}
	if !any {
		return
	}
	nw := nameWidth(r)
	b.WriteString("\nSlowdown vs the recording (service time, replayed / recorded)\n")
	fmt.Fprintf(b, "%-8s %-*s %9s %9s %7s | %9s %9s %7s\n", "Type", nw, "Name", "rec p50", "now p50", "x", "rec p95", "now p95", "x")
	sep := fmt.Sprintf("%s|%s|%s|%s\n", dashes(8), dashes(nw+1), dashes(28), dashes(28))
	b.WriteString(sep)
	row := func(typ, name string, s *Stats) {
		d := s.Slowdown
		if d == nil {
			return
		}
		fmt.Fprintf(b, "%-8s %-*s %9s %9s %6.2fx | %9s %9s %6.2fx\n", typ, nw, fit(name, nw),
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
