package kube_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ampload/amp/kube"
	"github.com/ampload/amp/stats"
)

func lateResult(model, shard, startAt string, firstRequest int64) *stats.Result {
	r := &stats.Result{Config: map[string]any{"model": model, "shard": shard}}
	r.Requests = 16
	if startAt != "" {
		r.Config["start_at"] = startAt
	}
	// A second with no request before the first one that has some.
	r.Series = []stats.Point{{T: firstRequest - 1}, {T: firstRequest, Requests: 7}, {T: firstRequest + 1, Requests: 9}}
	return r
}

func TestLateShards(t *testing.T) {
	at := "2026-12-02T06:13:09Z"
	t0 := time.Date(2026, 12, 2, 6, 13, 9, 0, time.UTC).Unix()
	results := []*stats.Result{
		lateResult("closed", "0/4", at, t0),             // on time
		lateResult("closed", "1/4", at, t0+3),           // within DefaultLateAfter
		lateResult("closed", "2/4", at, t0+27),          // its pod waited for CPU
		lateResult("arrival-rate", "3/4", at, t0+4),     // late too
		lateResult("timeline", "0/2", at, t0+60),        // sessions start when recorded: not judged
		lateResult("closed", "", "", t0+60),             // no shared start
		lateResult("closed", "1/2", "yesterday", t0+60), // unreadable start: not judged
	}
	// With a Start, as amp replay writes it: one on time, and one whose pod
	// started after the run's window (on a real cluster, a pod that waited
	// for CPU: 0 requests, started 13 s late).
	onTime := lateResult("closed", "4/8", at, t0+30)
	onTime.Start = time.Unix(t0, 18e6)
	gone := &stats.Result{Config: map[string]any{"model": "closed", "shard": "5/8", "start_at": at}, Start: time.Unix(t0+13, 0)}
	results = append(results, onTime, gone)
	got := kube.LateShards(results, kube.DefaultLateAfter)
	want := []string{
		"shard 2/4 began 27s after the shared start " + at,
		"shard 3/4 began 4s after the shared start " + at,
		"shard 5/8 began 13s after the shared start " + at + " and sent no request",
	}
	if !slices.Equal(got, want) {
		t.Errorf("LateShards =\n%q\nwant\n%q", got, want)
	}
	if got := kube.LateShards(results, time.Minute); len(got) != 0 {
		t.Errorf("LateShards with a minute's tolerance = %q, want none", got)
	}
	empty := &stats.Result{Config: map[string]any{"model": "closed", "start_at": at}}
	if got := kube.LateShards([]*stats.Result{empty}, 0); len(got) != 0 {
		t.Errorf("a shard that sent nothing: %q, want not judged", got)
	}
}

func TestSaveResultsLate(t *testing.T) {
	// As amp replay --print-result writes them: the late shard's pod
	// started 31 s after the shared start, past its 10 s run.
	res := func(shard, start string) kube.Result {
		return kube.Result{Shard: shard, JSON: fmt.Appendf(nil, `{"version":1,"requests":0,"start":%q,"config":{"model":"closed","duration":"10s","shard":%q,"start_at":"2026-12-02T06:13:09Z","run_id":"aaaaaaaaaaaaaaaa"}}`, start, shard)}
	}
	col, err := kube.SaveResults(t.TempDir(), []kube.Result{res("0/2", "2026-12-02T06:13:09.018Z"), res("1/2", "2026-12-02T06:13:40Z")}, 2)
	if err != nil || col.Err() != nil {
		t.Fatalf("%v %v", err, col.Err())
	}
	if want := []string{"shard 1/2 began 31s after the shared start 2026-12-02T06:13:09Z and sent no request"}; !slices.Equal(col.Late, want) {
		t.Errorf("Late = %q, want %q", col.Late, want)
	}
}
