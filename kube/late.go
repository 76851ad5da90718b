package kube

import (
	"fmt"
	"time"

	"github.com/ampload/amp/stats"
)

// DefaultLateAfter is how long after a sharded run's shared start a shard
// may send its first request before LateShards reports it: the per-second
// series places a request in its second, and a pod's first user needs a
// moment to connect.
const DefaultLateAfter = 3 * time.Second

// LateShards reports the shards of a closed-model or arrival-rate run
// (whose first users start at the shared start) that sent their first
// request more than after past the shared start, config start_at: such a
// shard's pod started late (it waited for CPU or memory to be free on some
// node, or for its image), so the shards did not run as one test and the
// merged result is not the load that was planned. Each line names the shard
// and how late it began; results without a shared start, or of a timeline
// (whose sessions start when the recording says), are not judged.
func LateShards(results []*stats.Result, after time.Duration) []string {
	var late []string
	for _, r := range results {
		model, _ := r.Config["model"].(string)
		at, _ := r.Config["start_at"].(string)
		if model != "closed" && model != "arrival-rate" || at == "" {
			continue
		}
		start, err := time.Parse(time.RFC3339, at)
		if err != nil {
			continue
		}
		var first int64
		for _, p := range r.Series {
			if p.Requests > 0 && (first == 0 || p.T < first) {
				first = p.T
			}
		}
		if first == 0 {
			continue
		}
		if d := time.Unix(first, 0).Sub(start); d > after {
			shard, _ := r.Config["shard"].(string)
			late = append(late, fmt.Sprintf("shard %s began %v after the shared start %s", shard, d.Round(time.Second), at))
		}
	}
	return late
}
