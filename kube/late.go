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
// (whose first users start at the shared start) that began more than after
// past the shared start, config start_at: such a shard's pod started late
// (it waited for CPU or memory to be free on some node, or for its image),
// so the shards did not run as one test and the merged result is not the
// load that was planned. A shard begins at its result's Start (or, without
// one, in the first second of its series with requests). Each line names
// the shard and how late it began, and says when it sent no request at all
// (its run's window had passed before its pod started). Results without a
// shared start, or of a timeline (whose sessions start when the recording
// says), are not judged.
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
		begin := r.Start
		if begin.IsZero() {
			begin = firstRequests(r.Series)
		}
		if begin.IsZero() {
			continue
		}
		if d := begin.Sub(start); d > after {
			shard, _ := r.Config["shard"].(string)
			line := fmt.Sprintf("shard %s began %v after the shared start %s", shard, d.Round(time.Second), at)
			if r.Requests == 0 {
				line += " and sent no request"
			}
			late = append(late, line)
		}
	}
	return late
}

// firstRequests is the first second of series with requests, or zero.
func firstRequests(series []stats.Point) time.Time {
	var first int64
	for _, p := range series {
		if p.Requests > 0 && (first == 0 || p.T < first) {
			first = p.T
		}
	}
	if first == 0 {
		return time.Time{}
	}
	return time.Unix(first, 0)
}
