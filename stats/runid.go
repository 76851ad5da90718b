package stats

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Keys of Result.Config that identify a run.
const (
	// ConfigRunID is the id of the run, shared by all its shards.
	ConfigRunID = "run_id"
	// ConfigRecordingID is the id of the recording replayed
	// (capture.Recording.ID).
	ConfigRecordingID = "recording_id"
	// ConfigShard is "I/N" for shard I of N.
	ConfigShard = "shard"
)

// NewRunID returns a random run id: 16 hex digits.
func NewRunID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return hex.EncodeToString(b[:])
}

// SharedRunID returns a run id derived from parts, the same in every process
// given the same parts (the shards of one run started with the same --start-at).
func SharedRunID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:8])
}

// RunID returns the id of the run the result comes from, or "" for a result
// written before amp recorded one.
func (r *Result) RunID() string { return r.configString(ConfigRunID) }

// RecordingID returns the id of the recording the run replayed, or "".
func (r *Result) RecordingID() string { return r.configString(ConfigRecordingID) }

// Shard returns "I/N" when the result is shard I of N, else "".
func (r *Result) Shard() string { return r.configString(ConfigShard) }

func (r *Result) configString(key string) string {
	s, _ := r.Config[key].(string)
	return s
}

// CheckMerge reports why results (named by names, for messages) should not be
// merged: two parts of one run given twice (the same run id and shard), or,
// unless force, results of different runs or of different recordings.
// Results without run id (written by an older amp) are compared only by
// recording.
func CheckMerge(results []*Result, names []string, force bool) error {
	name := func(i int) string {
		if i < len(names) {
			return names[i]
		}
		return fmt.Sprintf("result %d", i+1)
	}
	type part struct{ run, shard string }
	seen := map[part]int{}
	byRun := map[string][]int{}
	for i, r := range results {
		if id := r.RunID(); id != "" {
			p := part{id, r.Shard()}
			if j, dup := seen[p]; dup {
				what := "the result"
				if p.shard != "" {
					what = "shard " + p.shard
				}
				return fmt.Errorf("%s and %s are the same part of run %s (%s): give each part once", name(j), name(i), id, what)
			}
			seen[p] = i
			byRun[id] = append(byRun[id], i)
		}
	}
	for id, idx := range byRun {
		for _, k := range idx {
			if _, ok := results[k].Config["merged_results"]; ok && len(idx) > 1 {
				j := idx[0]
				if j == k {
					j = idx[1]
				}
				return fmt.Errorf("%s already holds the merged parts of run %s, and %s is one of them: give the parts or their merge, not both", name(k), id, name(j))
			}
		}
	}
	for i, r := range results {
		if force || i == 0 {
			continue
		}
		first := results[0]
		if a, b := first.RunID(), r.RunID(); a != b {
			return fmt.Errorf("%s and %s are results of different runs (%s and %s): merge the parts of one run, "+
				"give its shards one --run-id, or use --force to merge them anyway", name(0), name(i), orNone(a), orNone(b))
		}
		if a, b := first.RecordingID(), r.RecordingID(); a != "" && b != "" && a != b {
			return fmt.Errorf("%s and %s replayed different recordings (%s and %s): use --force to merge them anyway", name(0), name(i), a, b)
		}
	}
	return nil
}

func orNone(id string) string {
	if id == "" {
		return "no run id"
	}
	return "run " + id
}
