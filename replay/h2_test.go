package replay

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/stats"
	"go.uber.org/goleak"
)

// protoCounter counts the requests a server saw by protocol and the
// connections it accepted.
type protoCounter struct {
	mu     sync.Mutex
	protos map[string]int
	conns  atomic.Int64
}

func (pc *protoCounter) wrap(h http.Handler) http.Handler {
	pc.protos = map[string]int{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pc.mu.Lock()
		pc.protos[r.Proto]++
		pc.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (pc *protoCounter) count(proto string) int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return pc.protos[proto]
}

func (pc *protoCounter) String() string {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	var b strings.Builder
	for p, n := range pc.protos {
		fmt.Fprintf(&b, "%s:%d ", p, n)
	}
	return b.String()
}

// h2OnlyServer starts a TLS server on loopback that speaks HTTP/2 only: its
// ALPN offers h2 alone and its HTTP/1 server is off.
func h2OnlyServer(t testing.TB, h http.Handler) (*httptest.Server, *protoCounter) {
	t.Helper()
	pc := &protoCounter{}
	srv := httptest.NewUnstartedServer(pc.wrap(h))
	srv.EnableHTTP2 = true
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP2(true)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			pc.conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, pc
}

// h2cServer starts a cleartext server on loopback that speaks HTTP/2 with
// prior knowledge only.
func h2cServer(t testing.TB, h http.Handler) (*httptest.Server, *protoCounter) {
	t.Helper()
	pc := &protoCounter{}
	srv := httptest.NewUnstartedServer(pc.wrap(h))
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			pc.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, pc
}

// TestReplayH2DemositeFlow replays the demo site's login → create → view →
// API flow (cookies, CSRF tokens, ids from Location) at 20 users against the
// demo site behind a TLS server that speaks only h2: every request arrives
// as HTTP/2.0, one connection per user, and the statistics are those of the
// HTTP/1.1 replay: every request counted, no failure. With --http1 every
// request fails (the server closes HTTP/1.1 connections).
func TestReplayH2DemositeFlow(t *testing.T) {
	t.Parallel()
	recSrv, _ := newDemo(t, demosite.Config{})
	rec := recordFlow(t, recSrv.URL, "")
	tasks := len(rec.Sessions[0].Exchanges)

	site := demosite.New(demosite.Config{})
	srv, pc := h2OnlyServer(t, site)
	cfg := fastConfig(srv.URL)
	cfg.Insecure = true
	cfg.Users, cfg.Iterations = 20, 40
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures in %d requests: %s", res.Failures, res.Requests, describeFailures(res))
	}
	want := 40 * tasks
	if res.Requests != int64(want) {
		t.Fatalf("%d requests, want %d", res.Requests, want)
	}
	if got := pc.count("HTTP/2.0"); got != want {
		t.Fatalf("the server saw %d HTTP/2.0 requests of %d (%v)", got, want, pc)
	}
	if n := pc.conns.Load(); n > 20 {
		t.Fatalf("%d connections for 20 users, want one per user", n)
	}
	if st := site.Stats(); st.Articles < 40 || st.Comments < 40 {
		t.Fatalf("the target holds %d articles, %d comments; want ≥ 40 each", st.Articles, st.Comments)
	}

	cfg.HTTP1 = true
	cfg.Users, cfg.Iterations = 2, 2
	res, _ = runReplay(t, rec, cfg)
	if res.Failures != res.Requests || res.Requests == 0 || pc.count("HTTP/1.1") != 0 {
		t.Fatalf("--http1 to an h2-only server: %d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
}

// TestReplayH2CAndHTTP1: --h2c speaks HTTP/2 with prior knowledge to a
// cleartext server; an https target that offers both protocols gets h2 by
// default and HTTP/1.1 with --http1.
func TestReplayH2CAndHTTP1(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	rec := syntheticRecording("shop.example", 3, 4, 10*time.Millisecond)

	h2c, pc := h2cServer(t, ok)
	cfg := fastConfig(h2c.URL)
	cfg.H2C, cfg.Users, cfg.Iterations = true, 5, 15
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 || res.Requests != 60 || pc.count("HTTP/2.0") != 60 {
		t.Fatalf("--h2c: %d requests, %d failures (%s), server saw %v", res.Requests, res.Failures, describeFailures(res), pc)
	}

	pcb := &protoCounter{}
	both := httptest.NewUnstartedServer(pcb.wrap(ok))
	both.EnableHTTP2 = true
	both.StartTLS()
	defer both.Close()
	both.TLS.NextProtos = []string{"h2", "http/1.1"}
	cfg = fastConfig(both.URL)
	cfg.Insecure, cfg.Users, cfg.Iterations = true, 5, 15
	runReplay(t, rec, cfg)
	cfg.HTTP1 = true
	runReplay(t, rec, cfg)
	if pcb.count("HTTP/2.0") != 60 || pcb.count("HTTP/1.1") != 60 {
		t.Fatalf("default then --http1: the server saw %v, want 60 of each", pcb)
	}
}

// TestReplayH2Multiplexes: requests that overlapped in the recording go out
// together on the user's one connection; requests that followed each other
// wait for the one before. The handler holds each request until six are in
// (or a second passes), so the peak it sees is the client's concurrency.
func TestReplayH2Multiplexes(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	inflight, peak := 0, 0
	all := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inflight++
		peak = max(peak, inflight)
		if inflight == 6 {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-time.After(time.Second):
		}
		mu.Lock()
		inflight--
		mu.Unlock()
	})
	srv, pc := h2OnlyServer(t, h)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var exs []*capture.Exchange
	for i := range 8 {
		start := t0.Add(time.Duration(i) * time.Millisecond) // six assets fetched at once…
		if i >= 6 {
			start = t0.Add(time.Second + time.Duration(i)*10*time.Millisecond) // …then two pages in turn
		}
		exs = append(exs, &capture.Exchange{Session: "1", Start: start, Duration: 100 * time.Millisecond,
			Request:  capture.Request{Method: "GET", URL: fmt.Sprintf("http://shop.example/a%d", i)},
			Response: capture.Response{Status: 200}})
	}
	rec := &capture.Recording{Sessions: capture.GroupSessions(exs)}
	cfg := fastConfig(srv.URL)
	cfg.Insecure, cfg.Users, cfg.Iterations = true, 1, 1
	res, _ := runReplay(t, rec, cfg)
	if res.Requests != 8 || res.Failures != 0 {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	mu.Lock()
	defer mu.Unlock()
	if peak != 6 || pc.conns.Load() != 1 {
		t.Fatalf("peak concurrency %d on %d connections, want the 6 overlapping requests on 1", peak, pc.conns.Load())
	}
}

// TestReplayGRPCStatus: a gRPC call answered with grpc-status 14 in its
// trailers fails as "grpc: UNAVAILABLE" with its message as the sample,
// though its HTTP status is 200; grpc-status 0 passes.
func TestReplayGRPCStatus(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	var te atomic.Value
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		te.Store(r.Header.Get("Te"))
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
		w.Write([]byte{0, 0, 0, 0, 2, 8, 1})
		if down.Load() {
			w.Header().Set("Grpc-Status", "14")
			w.Header().Set("Grpc-Message", "backend%20down")
		} else {
			w.Header().Set("Grpc-Status", "0")
		}
	})
	srv, _ := h2cServer(t, h)
	rec := &capture.Recording{Sessions: capture.GroupSessions([]*capture.Exchange{{
		Session: "1", Start: time.Now(), Duration: time.Millisecond,
		Request: capture.Request{Method: "POST", URL: "http://api.example/grpc.health.v1.Health/Check",
			Header: capture.Headers{{Name: "Content-Type", Value: "application/grpc"}}, Body: []byte{0, 0, 0, 0, 0}},
		Response: capture.Response{Status: 200, Header: capture.Headers{{Name: "Content-Type", Value: "application/grpc"}}},
	}})}
	cfg := fastConfig(srv.URL)
	cfg.H2C, cfg.Users, cfg.Iterations = true, 2, 10
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 || res.Requests != 10 || res.Sessions.Completed != 10 || res.BytesSent == 0 {
		t.Fatalf("grpc-status 0: %d requests, %d failures (%s), sessions %+v, %d bytes sent", res.Requests, res.Failures, describeFailures(res),
			res.Sessions, res.BytesSent)
	}
	if got := te.Load(); got != "trailers" {
		t.Fatalf("the call's TE field is %q, want trailers", got)
	}
	down.Store(true)
	res, _ = runReplay(t, rec, cfg)
	if res.Failures != 10 || res.Sessions.Failed != 10 || len(res.Errors) != 1 || res.Errors[0].Reason != "grpc: UNAVAILABLE" || res.Errors[0].Sample != "backend down" {
		t.Fatalf("grpc-status 14: %d failures: %s %+v", res.Failures, describeFailures(res), res.Errors)
	}
}

// TestReplayH2StreamReset: a stream the server resets fails with the
// reset's code.
func TestReplayH2StreamReset(t *testing.T) {
	t.Parallel()
	srv, _ := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	cfg := fastConfig(srv.URL)
	cfg.H2C, cfg.Users, cfg.Iterations = true, 1, 2
	res, _ := runReplay(t, syntheticRecording("shop.example", 1, 1, time.Second), cfg)
	if res.Failures != 2 || len(res.Errors) != 1 || res.Errors[0].Reason != "h2: stream reset (INTERNAL_ERROR)" {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
}

// TestGRPCCodeName names every code and refuses none.
func TestGRPCCodeName(t *testing.T) {
	for code, want := range map[string]string{"0": "OK", "1": "CANCELLED", "14": "UNAVAILABLE", "16": "UNAUTHENTICATED", "17": "status 17", "x": `status "x"`} {
		if got := grpcCodeName(code); got != want {
			t.Errorf("grpcCodeName(%q) = %q, want %q", code, got, want)
		}
	}
}

// BenchmarkH2UserDo is BenchmarkUserDo over h2c: one task end to end, the
// HTTP/2 stream on a goroutine, settled at once.
func BenchmarkH2UserDo(b *testing.B) {
	srv, _ := h2cServer(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello, world")) }))
	rec := syntheticRecording("shop.example", 1, 1, time.Second)
	cfg := fastConfig(srv.URL)
	cfg.H2C = true
	namer, _ := stats.NewNamer(nil)
	plan, err := NewPlan(rec, cfg, namer.Name)
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPlayer(plan, cfg, stats.NewCollector(stats.Config{}))
	if err != nil {
		b.Fatal(err)
	}
	u := newUser(p, 0)
	defer u.closeConns()
	sc := plan.Scripts[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u.do(sc, &sc.Tasks[0], time.Time{})
		u.settleAll()
	}
}

// TestReplayH2NoLeak: an HTTP/2 replay leaves no goroutine behind, its
// streams' and connections' included.
func TestReplayH2NoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv, _ := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	cfg := fastConfig(srv.URL)
	cfg.H2C, cfg.Users, cfg.Iterations = true, 5, 20
	res, _ := runReplay(t, syntheticRecording("shop.example", 2, 3, 10*time.Millisecond), cfg)
	if res.Failures != 0 || res.Requests != 60 {
		t.Fatalf("%d requests, %d failures: %s", res.Requests, res.Failures, describeFailures(res))
	}
	srv.Close()
}

// TestReplayH2MaxConns: with --max-conns, users share that many HTTP/2
// connections, and every request still succeeds over HTTP/2.
func TestReplayH2MaxConns(t *testing.T) {
	t.Parallel()
	srv, pc := h2cServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	cfg := fastConfig(srv.URL)
	cfg.H2C, cfg.Users, cfg.Iterations, cfg.MaxConns = true, 10, 40, 2
	res, _ := runReplay(t, syntheticRecording("shop.example", 4, 3, 10*time.Millisecond), cfg)
	if res.Requests != 120 || res.Failures != 0 || pc.count("HTTP/2.0") != 120 || pc.conns.Load() > 2 {
		t.Fatalf("%d requests, %d failures (%s); the server saw %v on %d connections", res.Requests, res.Failures, describeFailures(res), pc, pc.conns.Load())
	}
}
