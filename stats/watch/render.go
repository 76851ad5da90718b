package watch

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// MaxEndpoints is how many endpoints Render lists, the busiest first.
const MaxEndpoints = 10

// Render writes v for a terminal: the shards up, the run, requests (the
// run's average rate and, given the view before, the current one),
// failures, latency percentiles, users, sessions, bytes, the top failure
// reasons and the busiest endpoints, then the shards that did not answer.
func Render(w io.Writer, v, prev *View) error {
	b := bufio.NewWriter(w)
	r := v.RatesSince(prev)
	run := "run " + strings.Join(v.Runs, ", ")
	if len(v.Runs) > 1 {
		run = "several runs: " + strings.Join(v.Runs, ", ")
	} else if len(v.Runs) == 0 {
		run = "no run yet"
	}
	fmt.Fprintf(b, "amp watch · %d/%d shards up · %s · %.1f s\n", v.Up(), len(v.Shards), run, v.Duration().Seconds())
	now := ""
	if prev != nil {
		now = fmt.Sprintf(" · %.1f/s now", r.Requests)
	}
	fmt.Fprintf(b, "requests %.0f · %.1f/s%s · failed %.0f (%.2f %%)\n", v.Requests, v.RPS(), now, v.Failures, 100*v.FailureRate())
	fmt.Fprintf(b, "latency p50 %s · p95 %s · p99 %s\n", ms(v.Latency.Quantile(0.5)), ms(v.Latency.Quantile(0.95)), ms(v.Latency.Quantile(0.99)))
	fmt.Fprintf(b, "users %.0f of %.0f · sessions %.0f completed, %.0f failed", v.Users, v.TargetUsers, v.SessionsCompleted, v.SessionsFailed)
	if prev != nil {
		fmt.Fprintf(b, " · sent %s/s · received %s/s", byteSize(r.BytesSent), byteSize(r.BytesReceived))
	}
	b.WriteString("\n")
	if len(v.Reasons) > 0 {
		var parts []string
		for _, k := range top(v.Reasons, 5) {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, v.Reasons[k]))
		}
		fmt.Fprintf(b, "failures: %s\n", strings.Join(parts, " · "))
	}
	renderEndpoints(b, v, r, prev != nil)
	for _, s := range v.Shards {
		if s.Err != nil {
			fmt.Fprintf(b, "shard %s: %v\n", s.URL, s.Err)
		}
	}
	return b.Flush()
}

func renderEndpoints(b *bufio.Writer, v *View, r Rates, live bool) {
	if len(v.Endpoints) == 0 {
		return
	}
	eps := slices.Clone(v.Endpoints)
	slices.SortStableFunc(eps, func(x, y Endpoint) int { return cmp.Compare(y.Requests, x.Requests) })
	rate := "req/s"
	if !live {
		rate = "req"
	}
	fmt.Fprintf(b, "%-44s %10s %8s %10s\n", "endpoint", rate, "failed", "p95")
	for _, e := range eps[:min(len(eps), MaxEndpoints)] {
		label := e.Method + " " + e.Name
		if len([]rune(label)) > 44 {
			label = string([]rune(label)[:43]) + "…"
		}
		n := e.Requests
		if live {
			n = r.Endpoints[e.Method+" "+e.Name]
		}
		failed := 0.0
		if e.Requests > 0 {
			failed = 100 * e.Failures / e.Requests
		}
		fmt.Fprintf(b, "%-44s %10.1f %6.1f %% %10s\n", label, n, failed, ms(e.Latency.Quantile(0.95)))
	}
	if len(eps) > MaxEndpoints {
		fmt.Fprintf(b, "… and %d more endpoints\n", len(eps)-MaxEndpoints)
	}
}

// ms formats seconds as milliseconds, "-" for none.
func ms(s float64) string {
	if math.IsNaN(s) {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", s*1000)
}

// byteSize formats a byte count with a decimal unit.
func byteSize(n float64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", n/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", n/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", n/1e3)
	}
	return fmt.Sprintf("%.0f B", n)
}
