package stats

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// SummaryTop is how many endpoints and failure reasons WriteSummary lists.
const SummaryTop = 10

// WriteSummary writes r as a Markdown summary for a CI job's page (GitHub's
// $GITHUB_STEP_SUMMARY, which amp appends to): a heading, the verdict line,
// a table of what the run is judged by (thresholds, checks, differences),
// the SummaryTop endpoints by requests with p50, p95, p99 and failures, and
// the SummaryTop failure reasons.
func WriteSummary(w io.Writer, r *Result, opts CIOptions) error {
	var b strings.Builder
	pass, line := r.verdictWith(opts)
	mark := "✅"
	if !pass {
		mark = "❌"
	}
	title := "amp replay"
	if rec := r.configString("recording"); rec != "" {
		title += " " + mdCode(rec)
	}
	if host := r.configString("host"); host != "" {
		title += " → " + mdCode(host)
	}
	fmt.Fprintf(&b, "### %s %s\n\n", mark, title)
	fmt.Fprintf(&b, "**%s**\n\n", mdText(line))
	fmt.Fprintf(&b, "%d users at peak, %s", r.Users, clock(time.Duration(r.DurationS*float64(time.Second))))
	if r.Dropped > 0 {
		fmt.Fprintf(&b, ", %d arrivals dropped (the cap on users was reached)", r.Dropped)
	}
	if id := r.RunID(); id != "" {
		fmt.Fprintf(&b, ", run %s", mdCode(id))
	}
	b.WriteString("\n\n")

	if cases := r.ciCases(opts); len(cases) > 0 {
		b.WriteString("| | judged by | observed |\n|---|---|---|\n")
		for _, c := range cases {
			m, text := "✅", c.detail
			if !c.pass {
				m, text = "❌", c.message
			}
			if c.class == "thresholds" {
				text = strings.TrimPrefix(c.detail, c.name+": ")
				if !c.pass {
					text = c.message
				}
			}
			name := c.name
			if c.class == "checks" {
				name = "check " + name
			}
			fmt.Fprintf(&b, "| %s | %s | %s |\n", m, mdCode(name), mdText(cmp.Or(text, "no failures")))
		}
		b.WriteString("\n")
	}

	if len(r.Endpoints) > 0 {
		eps := make([]*EndpointStats, 0, len(r.Endpoints))
		for i := range r.Endpoints {
			eps = append(eps, &r.Endpoints[i])
		}
		slices.SortStableFunc(eps, func(a, b *EndpointStats) int { return cmp.Compare(b.Requests, a.Requests) })
		head := "Endpoints"
		if len(eps) > SummaryTop {
			head = fmt.Sprintf("Top %d of %d endpoints, by requests", SummaryTop, len(eps))
			eps = eps[:SummaryTop]
		}
		fmt.Fprintf(&b, "**%s** (latency in ms, from the intended start)\n\n", head)
		b.WriteString("| endpoint | requests | p50 | p95 | p99 | failures |\n|---|---:|---:|---:|---:|---:|\n")
		row := func(name string, s *Stats) {
			p50, p95, p99 := "-", "-", "-"
			if s.Requests > 0 {
				p50, p95, p99 = fmtMS(s.Latency.P50), fmtMS(s.Latency.P95), fmtMS(s.Latency.P99)
			}
			fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %d (%s) |\n", name, s.Requests, p50, p95, p99, s.Failures, pct(s.FailureRate))
		}
		for _, e := range eps {
			row(mdCode(e.Label()), &e.Stats)
		}
		row("**all**", &r.Stats)
		b.WriteString("\n")
	}

	if len(r.Errors) > 0 {
		errs := r.Errors // sorted by count, most first
		head := "Failures"
		if len(errs) > SummaryTop {
			head = fmt.Sprintf("Top %d of %d failure reasons", SummaryTop, len(errs))
			errs = errs[:SummaryTop]
		}
		fmt.Fprintf(&b, "**%s**\n\n| count | endpoint | reason |\n|---:|---|---|\n", head)
		for _, e := range errs {
			reason := e.Reason
			if e.Sample != "" {
				reason += fmt.Sprintf(" (e.g. %q)", e.Sample)
			}
			fmt.Fprintf(&b, "| %d | %s | %s |\n", e.Count, mdCode(e.Method+" "+e.Name), mdText(reason))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdText escapes text for a Markdown table cell: pipes, and the characters
// that would start emphasis, code, links or HTML; newlines become spaces.
func mdText(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '|', '*', '_', '`', '[', ']', '<', '>', '#', '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// mdCode formats s as inline code, safe in a table cell.
func mdCode(s string) string {
	s = strings.NewReplacer("\n", " ", "\r", " ", "|", "\\|").Replace(s)
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}
