package replay

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ampload/amp/stats"
)

func TestShareOf(t *testing.T) {
	t.Parallel()
	for _, total := range []int{0, 1, 3, 7, 200, 1001} {
		for n := 1; n <= 9; n++ {
			sum, lo, hi := 0, total, 0
			for i := 0; i < n; i++ {
				s := ShareOf(total, i, n)
				sum += s
				lo, hi = min(lo, s), max(hi, s)
				if ShareOf(total, i, n) != s {
					t.Fatal("not deterministic")
				}
			}
			if sum != total || hi-lo > 1 {
				t.Fatalf("ShareOf(%d, ·, %d): sum %d, spread %d..%d", total, n, sum, lo, hi)
			}
		}
	}
}

func TestShardStarts(t *testing.T) {
	t.Parallel()
	all := Timeline(planOf(37, 100*time.Millisecond), 2.5, 1)
	seen := map[Start]int{}
	for i := 0; i < 4; i++ {
		for _, s := range shardStarts(all, i, 4) {
			seen[s]++
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("shards ran %d distinct copies of %d", len(seen), len(all))
	}
	for s, n := range seen {
		if n != 1 {
			t.Fatalf("copy %+v ran %d times", s, n)
		}
	}
}

// TestShardedRun runs 4 shards of --users 200 --rate 40 on a fake clock: they
// start together at StartAt, reach 200 users in total, and their merged
// result counts exactly the requests of all shards.
func TestShardedRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := pipeTarget(t)

		rec := syntheticRecording("shop.example", 5, 3, time.Second)
		startAt := time.Now().Add(2 * time.Second)
		var players []*Player
		var cols []*stats.Collector
		done := make(chan struct{}, 4)
		for i := 0; i < 4; i++ {
			cfg := DefaultConfig()
			cfg.Host = "http://shop.example"
			cfg.Users, cfg.Rate, cfg.Duration = 200, 40, 8*time.Second
			cfg.Think = Think{Mode: ThinkFixed, Fixed: 500 * time.Millisecond}
			cfg.Shard, cfg.Shards, cfg.StartAt = i, 4, startAt
			p, col := pipePlayer(t, ln, rec, cfg)
			players, cols = append(players, p), append(cols, col)
			go func() { p.Run(context.Background()); done <- struct{}{} }()
		}
		total := func() int {
			synctest.Wait()
			n := 0
			for _, p := range players {
				n += p.Status().Users
			}
			return n
		}
		time.Sleep(time.Second)
		if n := total(); n != 0 {
			t.Fatalf("%d users before the shared start", n)
		}
		// 40 users/s in all: after 2.5 s of ramp, 4 shards × (10/s × 2.5 s + 1).
		time.Sleep(3500 * time.Millisecond)
		if n := total(); n < 100 || n > 104 {
			t.Fatalf("%d users 2.5 s into the ramp, want about 100", n)
		}
		time.Sleep(3 * time.Second) // the ramp ends at 5 s
		if n := total(); n != 200 {
			t.Fatalf("%d users in all shards, want 200", n)
		}
		for range players {
			<-done
		}
		var results []*stats.Result
		var sum int64
		for _, c := range cols {
			r := c.Snapshot()
			results = append(results, r)
			sum += r.Requests
		}
		merged, err := stats.Merge(results...)
		if err != nil {
			t.Fatal(err)
		}
		if merged.Requests != sum || sum == 0 || merged.Failures != 0 {
			t.Fatalf("merged %d requests (%d failures), shards sum %d", merged.Requests, merged.Failures, sum)
		}
		if merged.Users != 200 {
			t.Errorf("merged peak users %d, want 200", merged.Users)
		}
	})
}

func TestStageUsers(t *testing.T) {
	t.Parallel()
	stages := []Stage{{time.Second, 10}, {2 * time.Second, 10}, {time.Second, 0}}
	tests := []struct {
		at   time.Duration
		want int
	}{
		{0, 0},
		{500 * time.Millisecond, 5},   // ramping up
		{999 * time.Millisecond, 9},   // rounded down
		{time.Second, 10},             // the hold
		{2500 * time.Millisecond, 10}, // still holding
		{3500 * time.Millisecond, 5},  // ramping down
		{4 * time.Second, 0},          // after the last stage
		{time.Hour, 0},
	}
	for _, tc := range tests {
		if got := StageUsers(stages, tc.at); got != tc.want {
			t.Errorf("StageUsers at %v = %d, want %d", tc.at, got, tc.want)
		}
	}
	if StagesLength(stages) != 4*time.Second {
		t.Error("StagesLength")
	}
	if got, err := ParseStages("30s:100, 1m:100,30s:0"); err != nil || len(got) != 3 || got[1] != (Stage{time.Minute, 100}) {
		t.Errorf("ParseStages = %v, %v", got, err)
	}
	// A 0s stage is a step; a bare number is seconds.
	if got, err := ParseStages("0s:5,2:5"); err != nil || len(got) != 2 || got[0] != (Stage{0, 5}) || got[1] != (Stage{2 * time.Second, 5}) {
		t.Errorf("ParseStages(step) = %v, %v", got, err)
	}
	if n := StageUsers([]Stage{{0, 5}, {2 * time.Second, 5}}, 0); n != 5 {
		t.Errorf("a step stage starts at %d users, want 5", n)
	}
	for _, bad := range []string{"", "30s", "x:1", "1s:-1", "-1s:5"} {
		if _, err := ParseStages(bad); err == nil {
			t.Errorf("ParseStages(%q) accepted", bad)
		}
	}
}

// TestStagesRun follows a ramp up, hold and ramp down on a fake clock, and
// ends after the last stage.
func TestStagesRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ln := pipeTarget(t)
		rec := syntheticRecording("shop.example", 2, 3, time.Second)
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Think = Think{Mode: ThinkFixed, Fixed: 100 * time.Millisecond}
		cfg.Stages = []Stage{{time.Second, 10}, {2 * time.Second, 10}, {time.Second, 0}}
		p, _ := pipePlayer(t, ln, rec, cfg)
		start := time.Now()
		done := make(chan struct{})
		go func() { p.Run(context.Background()); close(done) }()
		users := func() int { synctest.Wait(); return p.Status().Users }
		for _, step := range []struct {
			at       time.Duration
			min, max int
		}{
			{520 * time.Millisecond, 4, 6},
			{2 * time.Second, 10, 10},
			{3520 * time.Millisecond, 4, 6},
		} {
			time.Sleep(time.Until(start.Add(step.at)))
			if n := users(); n < step.min || n > step.max {
				t.Fatalf("at %v: %d users, want %d..%d", step.at, n, step.min, step.max)
			}
		}
		<-done
		if took := time.Since(start); took < 4*time.Second || took > 4*time.Second+cfg.StopTimeout {
			t.Fatalf("the run took %v, want the 4 s of the stages", took)
		}
	})
}
