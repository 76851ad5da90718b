package replay

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/ampload/amp/stats"
)

// faultPlayer plans rec for cfg with every task sent through dial.
func faultPlayer(t *testing.T, cfg Config, dial func(ctx context.Context) (net.Conn, error)) (*Player, *stats.Collector) {
	t.Helper()
	plan, err := NewPlan(syntheticRecording("shop.example", 2, 3, time.Second), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range plan.Scripts {
		for i := range sc.Tasks {
			sc.Tasks[i].Target.dial = dial
		}
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		t.Fatal(err)
	}
	return p, col
}

// TestRefusedBacksOff: users of a dead target with --think none back off
// (doubling from 10 ms to 1 s per user), so the attempts stay bounded, and
// every attempt is a "connection refused" failure (issue 13: 60,000
// reconnections a second).
func TestRefusedBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dials atomic.Int64
		refused := func(ctx context.Context) (net.Conn, error) {
			if dials.Add(1) > 100_000 {
				time.Sleep(time.Second) // no backoff: let the fake clock reach the end
			}
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		}
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Users, cfg.Rate = 5, 1000
		cfg.Think = Think{Mode: ThinkNone}
		cfg.Duration = 10 * time.Second
		p, col := faultPlayer(t, cfg, refused)
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Per user: 10, 20, ... 640 ms (7 attempts in 1.27 s), then one a second.
		if n, bound := dials.Load(), int64(5*(7+10)+5); n > bound || n < 5*10 {
			t.Fatalf("%d connection attempts by 5 users in 10 s, want at most %d", n, bound)
		}
		res := col.Snapshot()
		if res.Requests != dials.Load() || res.Failures != res.Requests || len(res.Errors) != 1 || res.Errors[0].Reason != ReasonRefused {
			t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
		}
	})
}

// TestUnansweredAtStopFail: a target that accepts and never answers, with
// a run shorter than --timeout: the requests in flight at the hard stop are
// failures "timeout at stop", not skipped, and the result has a real start
// (issue 13: "skipped (in flight at the hard stop)", Run: 0001-01-01).
func TestUnansweredAtStopFail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := make(chan net.Conn, 100)
		silent := func(ctx context.Context) (net.Conn, error) {
			client, server := net.Pipe()
			open <- server // never read, never answered
			return client, nil
		}
		defer func() {
			for len(open) > 0 {
				(<-open).Close()
			}
		}()
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Users, cfg.Rate = 4, 100
		cfg.Duration, cfg.StopTimeout = 2*time.Second, time.Second
		start := time.Now()
		p, col := faultPlayer(t, cfg, silent)
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		res := col.Snapshot()
		if res.Requests != 4 || res.Failures != 4 || len(res.Skipped) != 0 || len(res.Errors) != 1 || res.Errors[0].Reason != ReasonTimeoutAtStop {
			t.Fatalf("%d requests, %d failures, skipped %v: %s", res.Requests, res.Failures, res.Skipped, describeFailures(res))
		}
		if res.Start.Before(start.Add(-time.Second)) || res.DurationS < 2 {
			t.Fatalf("run from %v for %v s, want from about %v", res.Start, res.DurationS, start)
		}
		th, _ := stats.ParseThreshold("rate<0.01")
		if v := res.Check(th); v.Pass {
			t.Fatalf("rate<0.01 passed on a run whose every request timed out: %+v", v)
		}
	})
}

// TestGarbageReasonsBounded: a target answering a different malformed
// status line every time yields "bad response: ..." reasons from the fixed
// vocabulary with a UTF-8-safe sample, at most stats.MaxReasons+1 per
// endpoint (issue 13: 37,090 distinct reasons in 25 s).
func TestGarbageReasonsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		garbage := func(ctx context.Context) (net.Conn, error) {
			client, server := net.Pipe()
			go func() {
				defer server.Close()
				buf := make([]byte, 4096)
				_, _ = server.Read(buf)
				i := n.Add(1)
				fmt.Fprintf(server, "\xe2\x82 garbage %d \xff%s\r\n\r\n", i, string(rune('a'+i%26)))
			}()
			return client, nil
		}
		cfg := DefaultConfig()
		cfg.Host = "http://shop.example"
		cfg.Users, cfg.Rate = 4, 100
		cfg.Think = Think{Mode: ThinkFixed, Fixed: time.Millisecond}
		cfg.Duration = 3 * time.Second
		p, col := faultPlayer(t, cfg, garbage)
		if err := p.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		res := col.Snapshot()
		if res.Failures < 1000 || res.Failures != res.Requests {
			t.Fatalf("%d requests, %d failures", res.Requests, res.Failures)
		}
		per := map[string]int{}
		for _, e := range res.Errors {
			per[e.Method+" "+e.Name]++
			if e.Reason != "bad response: malformed status line" || e.Sample == "" {
				t.Errorf("reason %q sample %q", e.Reason, e.Sample)
			}
		}
		for ep, k := range per {
			if k > stats.MaxReasons+1 {
				t.Errorf("%s: %d reasons", ep, k)
			}
		}
	})
}

func TestDiffersBounded(t *testing.T) {
	t.Parallel()
	if got := Differs("status 200, recorded 302"); got != "differs: status 200, recorded 302" {
		t.Errorf("Differs: %q", got)
	}
	if got := Differs(strings.Repeat("\xff long ", 100)); len(got) > stats.MaxReasonLen || !utf8.ValidString(got) || !strings.HasPrefix(got, ReasonDiffers) {
		t.Errorf("Differs of a long invalid text: %q", got)
	}
}
