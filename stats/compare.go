package stats

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Comparison compares two results endpoint by endpoint (amp report A B):
// the change of p50, p95, p99 and of the failure rate, with a verdict per
// endpoint and one for the run.
type Comparison struct {
	A, B      *Result
	Rows      []CompareRow // endpoints of either run, by name and method
	Total     CompareRow   // the Aggregated rows
	Regressed bool         // some endpoint (or the total) got worse
	Verdict   string       // one line
}

// CompareRow is one endpoint of a Comparison. Deltas are relative changes
// (0.25 = 25 % slower) for latencies and differences of rates for failures.
type CompareRow struct {
	Method, Name         string
	InA, InB             bool
	A, B                 [3]float64 // p50, p95, p99 in ms
	Delta                [3]float64 // (B − A) / A
	FailA, FailB         float64    // failure rates
	FailDelta            float64    // FailB − FailA
	Verdict              string     // better, worse, same, new, gone
	RequestsA, RequestsB int64
}

// Thresholds of Compare: a latency change counts when it is over 10 % (p50,
// p95) or 20 % (p99) and over 1 ms; a failure-rate change when it is over
// half a percentage point.
const (
	cmpRel      = 0.10
	cmpRelP99   = 0.20
	cmpAbsMS    = 1.0
	cmpFailRate = 0.005
)

// Compare compares result b (the new run) with a (the baseline).
func Compare(a, b *Result) *Comparison {
	c := &Comparison{A: a, B: b}
	rows := map[epKey]*CompareRow{}
	var order []epKey
	get := func(m, n string) *CompareRow {
		k := epKey{method: m, name: n}
		if r := rows[k]; r != nil {
			return r
		}
		r := &CompareRow{Method: m, Name: n}
		rows[k] = r
		order = append(order, k)
		return r
	}
	for i := range a.Endpoints {
		e := &a.Endpoints[i]
		r := get(e.Method, e.Name)
		r.InA, r.A, r.FailA, r.RequestsA = true, pcts3(&e.Stats), e.FailureRate, e.Requests
	}
	for i := range b.Endpoints {
		e := &b.Endpoints[i]
		r := get(e.Method, e.Name)
		r.InB, r.B, r.FailB, r.RequestsB = true, pcts3(&e.Stats), e.FailureRate, e.Requests
	}
	var worse, better []string
	for _, k := range order {
		r := rows[k]
		r.judge()
		c.Rows = append(c.Rows, *r)
		switch r.Verdict {
		case "worse":
			worse = append(worse, r.Method+" "+r.Name+" "+r.why())
		case "better":
			better = append(better, r.Method+" "+r.Name)
		}
	}
	c.Total = CompareRow{Name: "Aggregated", InA: true, InB: true, A: pcts3(&a.Stats), B: pcts3(&b.Stats),
		FailA: a.FailureRate, FailB: b.FailureRate, RequestsA: a.Requests, RequestsB: b.Requests}
	c.Total.judge()
	switch {
	case len(worse) > 0 || c.Total.Verdict == "worse":
		c.Regressed = true
		if len(worse) == 0 {
			worse = append(worse, "Aggregated "+c.Total.why())
		}
		c.Verdict = fmt.Sprintf("REGRESSION: %d of %d endpoints worse (%s)", len(worse), len(c.Rows), strings.Join(worse, "; "))
	case len(better) > 0:
		c.Verdict = fmt.Sprintf("IMPROVED: %d of %d endpoints better, none worse", len(better), len(c.Rows))
	default:
		c.Verdict = "NO SIGNIFICANT CHANGE: within 10% (p99: 20%) and 0.5 percentage points of failures"
	}
	return c
}

func pcts3(s *Stats) [3]float64 {
	return [3]float64{s.Latency.P50, s.Latency.P95, s.Latency.P99}
}

func (r *CompareRow) judge() {
	switch {
	case !r.InA:
		r.Verdict = "new"
		return
	case !r.InB:
		r.Verdict = "gone"
		return
	}
	r.FailDelta = r.FailB - r.FailA
	worse, better := r.FailDelta > cmpFailRate, r.FailDelta < -cmpFailRate
	for i := range 3 {
		d := r.B[i] - r.A[i]
		if r.A[i] > 0 {
			r.Delta[i] = d / r.A[i]
		} else if d != 0 {
			r.Delta[i] = math.Inf(1)
		}
		rel := cmpRel
		if i == 2 {
			rel = cmpRelP99
		}
		if math.Abs(d) > cmpAbsMS && math.Abs(r.Delta[i]) > rel {
			if d > 0 {
				worse = true
			} else {
				better = true
			}
		}
	}
	switch {
	case worse:
		r.Verdict = "worse"
	case better:
		r.Verdict = "better"
	default:
		r.Verdict = "same"
	}
}

// why names the largest worsening of a row.
func (r *CompareRow) why() string {
	if r.FailDelta > cmpFailRate {
		return fmt.Sprintf("failures %s -> %s", pct(r.FailA), pct(r.FailB))
	}
	names := []string{"p50", "p95", "p99"}
	best := 0
	for i := range 3 {
		if r.Delta[i] > r.Delta[best] {
			best = i
		}
	}
	return fmt.Sprintf("%s %s", names[best], relDelta(r.Delta[best]))
}

func relDelta(d float64) string {
	if math.IsInf(d, 1) {
		return "new"
	}
	return fmt.Sprintf("%+.0f%%", d*100)
}

// WriteText writes the comparison as a table and the verdict line. nameA
// and nameB label the two results (e.g. their file names).
func (c *Comparison) WriteText(w io.Writer, nameA, nameB string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "A: %s  (%s, %d requests, %s)\n", nameA, c.A.Start.Format("2006-01-02 15:04"), c.A.Requests, pct(c.A.FailureRate)+" failed")
	fmt.Fprintf(&b, "B: %s  (%s, %d requests, %s)\n\n", nameB, c.B.Start.Format("2006-01-02 15:04"), c.B.Requests, pct(c.B.FailureRate)+" failed")
	nw := len("Aggregated")
	for _, r := range c.Rows {
		nw = max(nw, len(r.Name))
	}
	nw = min(nw, 60)
	fmt.Fprintf(&b, "%-8s %-*s", "Type", nw, "Name")
	for _, p := range []string{"p50", "p95", "p99"} {
		fmt.Fprintf(&b, " | %8s %8s %6s", p+" A", p+" B", "delta")
	}
	fmt.Fprintf(&b, " | %7s %7s %7s | %s\n", "fail A", "fail B", "delta", "verdict")
	sep := fmt.Sprintf("%s|%s%s|%s|%s\n", dashes(8), dashes(nw+1), strings.Repeat("|"+dashes(26), 3), dashes(25), dashes(8))
	b.WriteString(sep)
	row := func(typ string, r CompareRow) {
		fmt.Fprintf(&b, "%-8s %-*s", typ, nw, fit(r.Name, nw))
		for i := range 3 {
			a, bb, d := "-", "-", ""
			if r.InA {
				a = fmtMS(r.A[i])
			}
			if r.InB {
				bb = fmtMS(r.B[i])
			}
			if r.InA && r.InB {
				d = relDelta(r.Delta[i])
			}
			fmt.Fprintf(&b, " | %8s %8s %6s", a, bb, d)
		}
		fa, fb, fd := "-", "-", ""
		if r.InA {
			fa = pct(r.FailA)
		}
		if r.InB {
			fb = pct(r.FailB)
		}
		if r.InA && r.InB {
			fd = fmt.Sprintf("%+.2f", r.FailDelta*100)
		}
		fmt.Fprintf(&b, " | %7s %7s %7s | %s\n", fa, fb, fd, r.Verdict)
	}
	for _, r := range c.Rows {
		row(r.Method, r)
	}
	b.WriteString(sep)
	row("", c.Total)
	fmt.Fprintf(&b, "\n%s\n", c.Verdict)
	_, err := io.WriteString(w, b.String())
	return err
}
