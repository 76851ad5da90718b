package stats_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

func TestParseBands(t *testing.T) {
	t.Parallel()
	got, err := stats.ParseBands("800ms, 1.2s")
	if err != nil || !slices.Equal(got, []time.Duration{800 * time.Millisecond, 1200 * time.Millisecond}) {
		t.Fatalf("ParseBands = %v, %v", got, err)
	}
	for in, want := range map[string]string{
		"":                        "empty",
		"800":                     `"800" is not a duration`,
		"800ms,800ms":             "must ascend",
		"-1s":                     "not between 0 and 1h",
		"1ms,2ms,3ms,4ms,5ms,6ms": "at most 5",
	} {
		if _, err := stats.ParseBands(in); err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseBands(%q): %v, want one line with %q", in, err, want)
		}
	}
}

func FuzzParseBands(f *testing.F) {
	for _, s := range []string{"800ms,1200ms", "1s", "", ",", "1h,2h", "5ms,4ms", "1e3ms"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := stats.ParseBands(s)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		if len(got) == 0 || len(got) > stats.MaxBands || !slices.IsSorted(got) || got[0] <= 0 {
			t.Fatalf("ParseBands(%q) = %v", s, got)
		}
	})
}

// TestBandsAddUp: the successful tasks by latency band and the failed ones
// add up to the requests, per endpoint and in total, through JSON and a
// merge too.
func TestBandsAddUp(t *testing.T) {
	t.Parallel()
	res := fixture(t)
	limits := []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}
	check := func(what string, s *stats.Stats) {
		t.Helper()
		bands := s.Bands(limits)
		var sum int64
		for _, b := range bands {
			sum += b.Count
		}
		if len(bands) != 4 || sum != s.Requests || bands[3].Count != s.Failures || !bands[3].Failed {
			t.Errorf("%s: bands %+v add up to %d of %d requests", what, bands, sum, s.Requests)
		}
	}
	check("totals", &res.Stats)
	for i := range res.Endpoints {
		check(res.Endpoints[i].Label(), &res.Endpoints[i].Stats)
	}
	// GET /articles/{id}: latencies 2×(5+i) + i%3 ms for i in 0..19, each
	// second of 4: i = 0 is 10 ms, i = 1..9 are 13–28 ms but i = 7 failed,
	// i = 10..19 are 31 ms or more.
	art := res.Endpoints[1]
	if b := art.Bands(limits); b[0].Count != 4 || b[1].Count != 4*8 || b[2].Count != 4*10 || b[3].Count != 4 {
		t.Errorf("%s bands %+v, want 4 ≤ 10 ms, 32 in 10–30 ms, 40 over 30 ms, 4 failed", art.Label(), b)
	}
	back := roundTrip(t, res)
	merged, err := stats.Merge(back, back)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := res.Bands(limits), merged.Bands(limits); b[1].Count != 2*a[1].Count || b[3].Count != 2*a[3].Count {
		t.Errorf("merged bands %+v, want twice %+v", b, a)
	}
	if got := res.BandLimits(); !slices.Equal(got, []time.Duration{100 * time.Millisecond}) {
		t.Errorf("BandLimits from p(95)<100 = %v, want [100ms]", got)
	}
}

// TestDistribution: the bins cover 0 to the 99.9th percentile and hold
// every request.
func TestDistribution(t *testing.T) {
	t.Parallel()
	res := fixture(t)
	bins := res.Distribution(40)
	var sum int64
	for _, b := range bins {
		sum += b.Count
	}
	if len(bins) != 40 || sum != res.Requests || bins[0].LoMS != 0 || bins[39].HiMS < res.Latency.At(99.9) {
		t.Fatalf("%d bins holding %d of %d requests, up to %v ms", len(bins), sum, res.Requests, bins[len(bins)-1].HiMS)
	}
}
