package stats_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ampload/amp/stats"
)

func TestCapText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"timeout", 20, "timeout"},                 // short and valid: itself
		{"abcdefghij", 8, "abcde…"},                // cut, with the ellipsis ("…" is 3 bytes)
		{"ééééé", 8, "éé…"},                        // never inside a character
		{"a\xffb", 10, "a\uFFFDb"},                 // invalid bytes replaced
		{strings.Repeat("\xff", 40), 10, "\uFFFD"}, // a run of invalid bytes is one U+FFFD
	} {
		got := stats.CapText(tc.in, tc.n)
		if got != tc.want || !utf8.ValidString(got) || len(got) > tc.n {
			t.Errorf("CapText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestReasonsBounded: a target answering a different garbage reason every
// time leaves at most MaxReasons reasons per endpoint plus "other", all
// valid UTF-8 and bounded, and no failure is lost (issue 13: 37,090
// reasons in 25 s).
func TestReasonsBounded(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{Shards: 3})
	eps := []stats.Endpoint{c.Endpoint("GET", "/a"), c.Endpoint("POST", "/b")}
	const n = 5000
	var recs []*stats.Recorder
	for range 3 {
		recs = append(recs, c.NewRecorder())
	}
	for i := range n {
		s := sample(time.Duration(i)*time.Millisecond, 0, time.Millisecond, 0,
			fmt.Sprintf("bad response %d \xe2\x82 %s", i, strings.Repeat("x", i%300)))
		s.Detail = strings.Repeat("\xc3\xa9", i%100) + "\xff"
		recs[i%3].Record(eps[i%2], &s)
	}
	r := c.Snapshot()
	if r.Failures != n {
		t.Fatalf("%d failures counted, want %d", r.Failures, n)
	}
	per := map[string]int{}
	other := map[string]int64{}
	for _, e := range r.Errors {
		per[e.Method+" "+e.Name]++
		if e.Reason == stats.OtherReason {
			other[e.Method+" "+e.Name] += e.Count
		}
		if !utf8.ValidString(e.Reason) || len(e.Reason) > stats.MaxReasonLen || !utf8.ValidString(e.Sample) || len(e.Sample) > stats.MaxSampleLen {
			t.Errorf("unbounded reason %q sample %q", e.Reason, e.Sample)
		}
	}
	for label, k := range per {
		if k > stats.MaxReasons+1 || other[label] == 0 {
			t.Errorf("%s: %d reasons (other: %d), want at most %d and some other", label, k, other[label], stats.MaxReasons+1)
		}
	}
}

// TestSnapshotWithoutSamples: a run in which nothing finished starts when
// its users did, not on 0001-01-01 (issue 13).
func TestSnapshotWithoutSamples(t *testing.T) {
	t.Parallel()
	now := t0
	c := stats.NewCollector(stats.Config{Now: func() time.Time { return now }})
	c.SetUsers(5)
	now = now.Add(90 * time.Second)
	r := c.Snapshot()
	if !r.Start.Equal(t0) || !r.End.Equal(now) || r.DurationS != 90 {
		t.Fatalf("start %v end %v (%v s), want %v to %v", r.Start, r.End, r.DurationS, t0, now)
	}
	var b strings.Builder
	stats.WriteReport(&b, r)
	if strings.Contains(b.String(), "0001-01-01") || !strings.Contains(b.String(), "(01:30)") {
		t.Fatalf("report:\n%s", b.String())
	}
}

// TestSampleInReports: the sample kept with a reason shows, quoted and
// escaped, in the text and HTML reports.
func TestSampleInReports(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/")
	rec := c.NewRecorder()
	s := sample(0, 0, time.Millisecond, 0, "bad response: malformed status line")
	s.Detail = "<script>\x00"
	rec.Record(ep, &s)
	r := c.Snapshot()
	var b strings.Builder
	stats.WriteReport(&b, r)
	if !strings.Contains(b.String(), `bad response: malformed status line (e.g. "<script>\x00")`) {
		t.Errorf("text report:\n%s", b.String())
	}
	var h strings.Builder
	if err := stats.WriteHTML(&h, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.String(), "<script>\\x00") || !strings.Contains(h.String(), "(e.g. &#34;&lt;script&gt;\\x00&#34;)") {
		t.Errorf("HTML report lacks the escaped sample")
	}
}
