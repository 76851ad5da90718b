package stats

import (
	"math/rand/v2"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestBinWidthMatchesHistogram: the width LatencyBins gives each bin is
// that of the endpoint histograms' geometry, at every magnitude.
func TestBinWidthMatchesHistogram(t *testing.T) {
	t.Parallel()
	h := hdr.New(lowestUS, highestUS, sigFigs)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		v := int64(i)
		if i >= 3000 {
			v = rng.Int64N(highestUS / 2)
		}
		h.Reset()
		_ = h.RecordValue(v)
		lo := h.Min() // the lowest value of v's bin
		w := binWidthUS(lo)
		if !h.ValuesAreEquivalent(lo, lo+w-1) || h.ValuesAreEquivalent(lo, lo+w) {
			t.Fatalf("value %d: bin [%d, %d) is not the histogram's", v, lo, lo+w)
		}
	}
}

// TestLatencyBinsCountEveryTask: the bins hold every task, each in the bin
// of its latency.
func TestLatencyBinsCountEveryTask(t *testing.T) {
	t.Parallel()
	c := NewCollector(Config{})
	ep := c.Endpoint("GET", "/")
	rec := c.NewRecorder()
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	lats := []time.Duration{0, 1500 * time.Microsecond, 1500 * time.Microsecond, 250 * time.Millisecond, 3 * time.Second}
	for _, d := range lats {
		rec.Record(ep, &Sample{Sent: t0, Done: t0.Add(d), Status: 200})
	}
	r := c.Snapshot()
	var bins []HistBin
	for b := range r.Endpoints[0].LatencyBins() {
		bins = append(bins, b)
	}
	if len(bins) != 4 {
		t.Fatalf("bins %+v, want 4", bins)
	}
	want := []struct {
		d time.Duration
		n int64
	}{{0, 1}, {1500 * time.Microsecond, 2}, {250 * time.Millisecond, 1}, {3 * time.Second, 1}}
	for i, b := range bins {
		d := want[i].d.Seconds()
		if d < b.Lo || d >= b.Hi || b.N != want[i].n || (b.Hi-b.Lo) > max(1e-6, b.Lo/1000) {
			t.Errorf("bin %d %+v, want %d tasks of %v within 0.1 %%", i, b, want[i].n, want[i].d)
		}
	}
}
