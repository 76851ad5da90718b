// Package watch is the live view of a sharded run (amp report watch): it
// scrapes the /metrics of every shard (stats/prom), in protobuf so that
// native histograms come along, and merges them into one View, as if one
// process ran the whole test: counters add up, latency histograms merge
// bucket by bucket (native buckets, else the classic ones), users and
// target users add up, and the run's span is from the earliest start to
// the latest end.
//
// A View's RPS (requests over that span) is the figure the exact merge of
// the final results (stats.Merge, amp report merge) computes; Rates between
// two views are the current throughput. The exact merge stays where it is:
// a view is what the shards' /metrics say while they run.
//
// Targets reads the shards' URLs from arguments or files listing them;
// Render writes a view for a terminal.
package watch
