package replay

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/internal/fielderr"
)

// planOf builds a plan of n one-task scripts starting gap apart.
func planOf(n int, gap time.Duration) *Plan {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &Plan{}
	for i := 0; i < n; i++ {
		p.Scripts = append(p.Scripts, &Script{Start: t0.Add(time.Duration(i) * gap), Tasks: []Task{{}}})
	}
	p.Span = time.Duration(n-1)*gap + time.Millisecond
	return p
}

func TestTimelineCopies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scripts  int
		multiple float64
		want     int
	}{
		{name: "once", scripts: 100, multiple: 1, want: 100},
		{name: "three times", scripts: 100, multiple: 3, want: 300},
		// Every other script gets a third copy.
		{name: "two and a half", scripts: 100, multiple: 2.5, want: 250},
		{name: "a tenth", scripts: 100, multiple: 0.1, want: 10},
		{name: "odd count", scripts: 7, multiple: 1.5, want: 10}, // 7 + floor(3.5)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			starts := Timeline(planOf(tc.scripts, time.Second), tc.multiple, 1)
			if len(starts) != tc.want {
				t.Fatalf("%d starts, want %d", len(starts), tc.want)
			}
			for i := 1; i < len(starts); i++ {
				if starts[i].At < starts[i-1].At {
					t.Fatalf("not sorted at %d", i)
				}
			}
		})
	}
}

func TestTimelineSpeedAndSpread(t *testing.T) {
	t.Parallel()
	p := planOf(10, 2*time.Second) // sessions at 0, 2s, ..., 18s
	one := Timeline(p, 1, 1)
	fast := Timeline(p, 1, 2)
	if last := one[len(one)-1].At; last != 18*time.Second {
		t.Fatalf("last start at speed 1: %v", last)
	}
	if last := fast[len(fast)-1].At; last != 9*time.Second {
		t.Fatalf("--speed 2 should halve the span: last start %v", last)
	}
	if got := TimelinePeriod(p, 2); got != (p.Span / 2) {
		t.Fatalf("period %v, want %v", got, p.Span/2)
	}

	// Three copies of a session do not start at the same instant, and stay
	// within a second of the recorded offset.
	three := Timeline(p, 3, 1)
	seen := map[time.Duration]bool{}
	for _, s := range three {
		if seen[s.At] {
			t.Fatalf("two copies start at %v", s.At)
		}
		seen[s.At] = true
		base := time.Duration(s.Script) * 2 * time.Second
		if s.At < base || s.At >= base+time.Second {
			t.Fatalf("copy %d of script %d at %v, recorded offset %v", s.Copy, s.Script, s.At, base)
		}
	}
}

func TestThinkTime(t *testing.T) {
	t.Parallel()
	task := &Task{Think: 3 * time.Second}
	tests := []struct {
		mode            ThinkMode
		fixed, maxThink time.Duration
		speed           float64
		want            time.Duration
	}{
		{ThinkRecorded, 0, 0, 1, 3 * time.Second},
		{ThinkRecorded, 0, 0, 2, 1500 * time.Millisecond},               // --speed divides
		{ThinkRecorded, 0, time.Second, 2, time.Second},                 // --max-think caps
		{ThinkRecorded, 0, 2 * time.Second, 2, 1500 * time.Millisecond}, // below the cap
		{ThinkNone, 0, 0, 1, 0},
		{ThinkFixed, 250 * time.Millisecond, 0, 4, 250 * time.Millisecond}, // a fixed pause ignores speed
	}
	for _, tc := range tests {
		if got := ThinkTime(task, Think{Mode: tc.mode, Fixed: tc.fixed, Max: tc.maxThink}, tc.speed); got != tc.want {
			t.Errorf("ThinkTime(%v, %v, max %v, %v) = %v, want %v", tc.mode, tc.fixed, tc.maxThink, tc.speed, got, tc.want)
		}
	}
	if SpawnInterval(50) != 20*time.Millisecond || SpawnInterval(0) != time.Duration(math.MaxInt64) {
		t.Error("SpawnInterval")
	}
}

func TestParseThinkAndValidate(t *testing.T) {
	t.Parallel()
	if th, err := ParseThink("250ms"); err != nil || th.Mode != ThinkFixed || th.Fixed != 250*time.Millisecond {
		t.Errorf("ParseThink(250ms) = %+v %v", th, err)
	}
	if _, err := ParseThink("sometimes"); err == nil {
		t.Error("ParseThink accepted garbage")
	}
	cfg := DefaultConfig()
	cfg.Users, cfg.Speed, cfg.Loop = 0, -1, true
	err := cfg.Validate()
	for _, want := range []string{"Host is required", "Users 0: want at least 1", "Speed -1", "Loop needs Timeline"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v, want it to report %q", err, want)
		}
	}
	if fes := fielderr.All(err); len(fes) != 4 || fes[0].Field != "Host" || fes[3].Field != "Loop" {
		t.Errorf("field errors %+v", fes)
	}
	flag := func(f string) string { return "--" + strings.ToLower(f) }
	if got := fielderr.Describe(err, flag); !strings.Contains(got, "--loop needs --timeline; ") && !strings.HasSuffix(got, "--loop needs --timeline") {
		t.Errorf("described %q", got)
	}
}
