package stats_test

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// TestMergeShardsProperty: for random traffic dealt out at random over N
// shards (2 to 8, as `amp replay --shard I/N` processes would measure it),
// merging the shards' results equals measuring all of it in one process:
// counts, failures, bytes sent and received, sessions, histograms,
// percentiles and the per-second series.
func TestMergeShardsProperty(t *testing.T) {
	t.Parallel()
	names := [][2]string{{"GET", "/"}, {"GET", "/articles/{id}"}, {"POST", "/login"}}
	type task struct {
		ep          int // which endpoint the sample belongs to, fixed before dealing
		s           stats.Sample
		endsSession bool // a session ends with this task, failed if it failed
	}
	collect := func(tasks []task) *stats.Result {
		c := stats.NewCollector(stats.Config{})
		var eps []stats.Endpoint
		for _, n := range names {
			eps = append(eps, c.Endpoint(n[0], n[1]))
		}
		r := c.NewRecorder()
		for i := range tasks {
			r.Record(eps[tasks[i].ep], &tasks[i].s)
			if tasks[i].endsSession {
				c.SessionDone(tasks[i].s.Failure != "")
			}
		}
		r.Close()
		return roundTrip(t, c.Snapshot())
	}
	for seed := int64(1); seed <= 12; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var all []task
		for _, s := range randomSamples(100+seed, 500+rng.Intn(3000), time.Duration(rng.Intn(5))*time.Second) {
			all = append(all, task{ep: rng.Intn(len(names)), s: s, endsSession: rng.Intn(4) == 0})
		}
		n := 2 + rng.Intn(7)
		parts := make([][]task, n)
		for _, tk := range all {
			i := rng.Intn(n)
			parts[i] = append(parts[i], tk)
		}
		var results []*stats.Result
		for _, p := range parts {
			results = append(results, collect(p))
		}
		merged, err := stats.Merge(results...)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		merged = roundTrip(t, merged)
		delete(merged.Config, "merged_results")
		one := collect(all)
		if one.Sessions.Total() == 0 || one.Sessions.Failed == 0 || one.BytesSent == 0 {
			t.Fatalf("seed %d: the fixture has no sessions, failed sessions or bytes sent: %+v, %d", seed, one.Sessions, one.BytesSent)
		}
		if diff := jsonDiff(t, merged, one); diff != "" {
			t.Fatalf("seed %d, %d shards: merged result differs from one process: %s", seed, n, diff)
		}
	}
}

// TestLateCounted: a task sent more than LateAfter after its intended start
// counts as late, per endpoint and in the totals, and merges add them up.
func TestLateCounted(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/")
	r := c.NewRecorder()
	for i, late := range []time.Duration{0, 5 * time.Millisecond, stats.LateAfter, 11 * time.Millisecond, time.Second} {
		s := sample(time.Duration(i)*time.Second, late, 20*time.Millisecond, 200, "")
		r.Record(ep, &s)
	}
	r.Close()
	res := c.Snapshot()
	if res.Late != 2 || res.Endpoints[0].Late != 2 {
		t.Fatalf("late %d (endpoint %d), want 2: only 11 ms and 1 s are over %v", res.Late, res.Endpoints[0].Late, stats.LateAfter)
	}
	merged, err := stats.Merge(res, res)
	if err != nil || merged.Late != 4 {
		t.Fatalf("merged late %d, %v", merged.Late, err)
	}
	var report strings.Builder
	stats.WriteReport(&report, res)
	if !strings.Contains(report.String(), "2 tasks (40.00%) were sent more than 10ms after their intended start") {
		t.Errorf("the report does not say how many tasks were late:\n%s", report.String())
	}
}
