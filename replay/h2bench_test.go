//go:build unix

package replay

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// cpuTime is the CPU time the process has used (user and system).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPerCPU reports requests per CPU-second of the whole process (the
// in-process server included, the same for every client compared).
func reportPerCPU(b *testing.B, n int, cpu time.Duration) {
	b.ReportMetric(float64(n)/cpu.Seconds(), "req/cpu-s")
}

// BenchmarkH2Player replays b.N one-request sessions with 50 users over h2c
// (one connection each) against a local h2c server: the whole replay path,
// beside BenchmarkH2BareClient.
func BenchmarkH2Player(b *testing.B) {
	srv, _ := h2cServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("count: 1000000")) }))
	rec := syntheticRecording("shop.example", 1, 1, time.Second)
	rec.Sessions[0].Exchanges[0].Request.URL = "http://shop.example/"
	cfg := fastConfig(srv.URL)
	cfg.H2C = true
	cfg.Users, cfg.Rate, cfg.Iterations = 50, 1e6, b.N
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		b.Fatal(err)
	}
	col := stats.NewCollector(stats.Config{})
	p, err := NewPlayer(plan, cfg, col)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	if err := p.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	if res := col.Snapshot(); res.Requests != int64(b.N) || res.Failures != 0 {
		b.Fatalf("%d requests, %d failures", res.Requests, res.Failures)
	}
	reportPerCPU(b, b.N, cpu)
}

// BenchmarkH2BareClient is the floor BenchmarkH2Player is compared with: 50
// goroutines, each with its own h2c connection (net/http's client), sending
// b.N GETs in all to the same local server and reading the bodies.
func BenchmarkH2BareClient(b *testing.B) {
	srv, _ := h2cServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("count: 1000000")) }))
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	var left atomic.Int64
	left.Store(int64(b.N))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			tr := &http.Transport{Protocols: protos}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for left.Add(-1) >= 0 {
				resp, err := client.Get(srv.URL + "/")
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	reportPerCPU(b, b.N, cpu)
}
