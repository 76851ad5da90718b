package stats_test

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"github.com/ampload/amp/stats"
)

// withConfig returns a copy of the fixture result with these config keys.
func withConfig(t *testing.T, kv ...string) *stats.Result {
	t.Helper()
	r := fixture(t)
	r.Config = maps.Clone(r.Config)
	for i := 0; i+1 < len(kv); i += 2 {
		r.Config[kv[i]] = kv[i+1]
	}
	return r
}

func TestCheckMerge(t *testing.T) {
	t.Parallel()
	shard := func(run, rec, i string) *stats.Result {
		return withConfig(t, stats.ConfigRunID, run, stats.ConfigRecordingID, rec, stats.ConfigShard, i)
	}
	merged, err := stats.Merge(shard("r1", "A", "0/2"), shard("r1", "A", "1/2"))
	if err != nil {
		t.Fatal(err)
	}
	if merged.RunID() != "r1" || merged.Shard() != "" {
		t.Fatalf("the merge: run %q shard %q, want run r1 and no shard", merged.RunID(), merged.Shard())
	}
	old := fixture(t) // no run id: written before amp had them
	for _, tc := range []struct {
		name    string
		results []*stats.Result
		force   bool
		want    string // "" = mergeable
	}{
		{"the shards of one run", []*stats.Result{shard("r1", "A", "0/2"), shard("r1", "A", "1/2")}, false, ""},
		{"two runs", []*stats.Result{shard("r1", "A", "0/2"), shard("r2", "A", "1/2")}, false, "b.json are results of different runs (run r1 and run r2)"},
		{"two runs, forced", []*stats.Result{shard("r1", "A", "0/2"), shard("r2", "A", "1/2")}, true, ""},
		{"a run and an old result", []*stats.Result{shard("r1", "A", "0/2"), old}, false, "(run r1 and no run id)"},
		{"two old results", []*stats.Result{old, fixture(t)}, false, ""},
		{"two recordings", []*stats.Result{shard("r1", "A", "0/2"), shard("r1", "B", "1/2")}, false, "replayed different recordings (A and B)"},
		{"two recordings, forced", []*stats.Result{shard("r1", "A", "0/2"), shard("r1", "B", "1/2")}, true, ""},
		{"one shard twice", []*stats.Result{shard("r1", "A", "0/2"), shard("r1", "A", "0/2")}, false, "are the same part of run r1 (shard 0/2)"},
		{"one shard twice, forced", []*stats.Result{shard("r1", "A", "0/2"), shard("r1", "A", "0/2")}, true, "same part"},
		{"one unsharded run twice", []*stats.Result{withConfig(t, stats.ConfigRunID, "r3"), withConfig(t, stats.ConfigRunID, "r3")}, false, "same part of run r3 (the result)"},
		{"a merge and one of its parts", []*stats.Result{merged, shard("r1", "A", "1/2")}, true, "a.json already holds the merged parts of run r1, and b.json is one of them"},
	} {
		err := stats.CheckMerge(tc.results, []string{"a.json", "b.json"}, tc.force)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestRunIDsSurviveJSON checks that the ids are read back from the JSON.
func TestRunIDsSurviveJSON(t *testing.T) {
	t.Parallel()
	r := withConfig(t, stats.ConfigRunID, stats.NewRunID(), stats.ConfigRecordingID, "0123456789abcdef", stats.ConfigShard, "1/3")
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	back, err := stats.DecodeResult(&b)
	if err != nil {
		t.Fatal(err)
	}
	if back.RunID() != r.RunID() || len(back.RunID()) != 16 || back.RecordingID() != "0123456789abcdef" || back.Shard() != "1/3" {
		t.Fatalf("read back run %q recording %q shard %q", back.RunID(), back.RecordingID(), back.Shard())
	}
	if a, b := stats.NewRunID(), stats.NewRunID(); a == b {
		t.Fatalf("two random run ids are equal: %s", a)
	}
	if a, b := stats.SharedRunID("2030-01-01T00:00:00Z", "4", "rec"), stats.SharedRunID("2030-01-01T00:00:00Z", "4", "rec"); a != b || a == stats.SharedRunID("2030-01-01T00:00:01Z", "4", "rec") {
		t.Fatalf("shared run ids %q %q", a, b)
	}
}
