package stats_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// FuzzResultUse decodes arbitrary bytes as a result and, when they decode,
// uses the result as amp does with a file it is given: renders it (console,
// HTML, CSV, comparison, window percentiles), checks thresholds on it,
// merges it with itself and writes it again. None of that may panic or fail,
// the JSON written must read back to the same JSON, and the merge must add
// up.
func FuzzResultUse(f *testing.F) {
	c := stats.NewCollector(stats.Config{Percentiles: []float64{50, 99}, Start: t0, Now: func() time.Time { return t0 }})
	c.SetConfig(map[string]any{stats.ConfigRunID: "0123456789abcdef", stats.ConfigShard: "0/2", "users": 3})
	c.SetUsers(2)
	rec := c.NewRecorder()
	ep := c.Endpoint("GET", "/")
	c.SetRecorded(ep, []time.Duration{time.Millisecond, 2 * time.Millisecond})
	for i, e := range []stats.Endpoint{ep, c.Endpoint("POST", "/a/{id}")} {
		s := sample(time.Duration(i)*time.Second, time.Millisecond, 3*time.Millisecond, 500, "HTTP 500")
		rec.Record(e, &s)
		s = sample(time.Duration(i)*time.Second+time.Millisecond, 0, 2*time.Millisecond, 200, "")
		rec.Record(e, &s)
	}
	c.AddSkipped("unmapped host", 2)
	var small bytes.Buffer
	if err := c.Snapshot().WriteJSON(&small); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Add([]byte(`{"version":1,"requests":0}`))
	f.Add([]byte(`{"version":1,"requests":5,"failures":9,"start":"2030-01-01T00:00:00Z","end":"2020-01-01T00:00:00Z","users":-3}`))
	f.Add([]byte(`{"version":1,"requests":1,"endpoints":[{"method":"GET","name":"/","requests":-1,"latency_ms":{"p0":1,"p100":2,"p50":-1}}]}`))
	f.Add([]byte(`{"version":1,"requests":1,"percentiles":[0,100,150,-1],"series":[{"t":-9223372036854775808},{"t":9223372036854775807}]}`))
	f.Add([]byte(`{"version":1,"requests":1,"errors":[{"method":"GET","name":"/","reason":"\xff\xfe","count":-5}],"config":{"shard":7}}`))
	ths := []stats.Threshold{}
	for _, e := range []string{"p(95)<100", "rate<0.01", "GET /: p(99)<30", "avg<1", "max<1", "count>0", "failures<1", "rps>1"} {
		th, err := stats.ParseThreshold(e)
		if err != nil {
			f.Fatal(err)
		}
		ths = append(ths, th)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := stats.DecodeResult(bytes.NewReader(b))
		if err != nil {
			return
		}
		var first bytes.Buffer
		if err := r.WriteJSON(&first); err != nil {
			t.Fatalf("a result that reads must write: %v", err)
		}
		again, err := stats.DecodeResult(bytes.NewReader(first.Bytes()))
		if err != nil {
			t.Fatalf("a written result must read back: %v\n%s", err, first.Bytes())
		}
		var second bytes.Buffer
		if err := again.WriteJSON(&second); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.Bytes(), second.Bytes()) {
			t.Fatalf("writing what was read changed the result:\n%s\n%s", first.Bytes(), second.Bytes())
		}
		if err := stats.NewConsole(io.Discard, false).Final(r); err != nil {
			t.Fatalf("console: %v", err)
		}
		if err := stats.WriteHTML(io.Discard, r); err != nil {
			t.Fatalf("html: %v", err)
		}
		if err := stats.Compare(r, again).WriteText(io.Discard, "a", "b"); err != nil {
			t.Fatalf("compare: %v", err)
		}
		for _, suffix := range stats.CSVSuffixes() {
			if err := stats.WriteCSV(io.Discard, r, suffix); err != nil {
				t.Fatalf("csv %s: %v", suffix, err)
			}
		}
		if n := len(r.Series); n > 0 {
			if ps := r.WindowPercentiles(r.Series[0].T, r.Series[n-1].T+1, 50, 100); ps[0] > ps[1] {
				t.Fatalf("window percentiles of the series: p50 %v above p100 %v", ps[0], ps[1])
			}
		}
		_ = again.CheckThresholds(ths)
		_ = stats.CheckMerge([]*stats.Result{r, again}, nil, true)
		m, err := stats.Merge(r, again)
		if err != nil {
			return // e.g. an endpoint with requests but no histogram
		}
		if r.Requests >= 0 && r.Requests < 1<<60 && m.Requests != 2*sumRequests(r) {
			t.Fatalf("merging a result with itself: %d requests, want 2 × %d", m.Requests, sumRequests(r))
		}
		if err := m.WriteJSON(io.Discard); err != nil {
			t.Fatalf("the merge must write: %v", err)
		}
	})
}

// sumRequests adds up the endpoints' requests, which a merge totals.
func sumRequests(r *stats.Result) int64 {
	var n int64
	for _, e := range r.Endpoints {
		n += e.Requests
	}
	return n
}
