package replay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/coder/websocket"
)

// wsEchoServer answers every message with itself.
func wsEchoServer(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// echoRecording is one session: an upgrade to host and a conversation of n
// request-like text messages, each echoed.
func echoRecording(host string, n int) *capture.Recording {
	start := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	e := &capture.Exchange{
		Session: "s", Start: start, TTFB: time.Millisecond, Duration: time.Second,
		Request: capture.Request{Method: "GET", URL: host + "/echo", Proto: "HTTP/1.1", Header: capture.Headers{
			{Name: "Host", Value: strings.TrimPrefix(host, "http://")}, {Name: "Upgrade", Value: "websocket"},
			{Name: "Connection", Value: "Upgrade"}, {Name: "Sec-WebSocket-Version", Value: "13"}, {Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ=="}}},
		Response: capture.Response{Status: 101, Proto: "HTTP/1.1", Header: capture.Headers{{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"}}},
	}
	msg := []byte(`{"type":"chat","text":"hello there, a message of a typical size"}`)
	for i := range n {
		at := time.Millisecond + time.Duration(i)*time.Microsecond
		e.WS = append(e.WS,
			capture.WSMessage{Offset: at, Opcode: capture.WSText, Data: msg, Size: int64(len(msg))},
			capture.WSMessage{Offset: at, FromServer: true, Opcode: capture.WSText, Data: msg, Size: int64(len(msg))})
	}
	return &capture.Recording{Sessions: []*capture.Session{{ID: "s", Exchanges: []*capture.Exchange{e}}}}
}

// wsCPUTime is the process's user and system CPU time so far.
func wsCPUTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const benchConvLen = 1000 // messages a conversation

// BenchmarkWSReplay: amp's replay of echoed conversations, 4 users; one op
// is one message and its echo. msgs/cpu-s counts the CPU of client and
// server alike (both in this process), as BenchmarkWSBareGo does.
func BenchmarkWSReplay(b *testing.B) {
	srv := wsEchoServer(b)
	rec := echoRecording(srv.URL, benchConvLen)
	cfg := fastConfig(srv.URL)
	cfg.Users = 4
	cfg.Iterations = max(1, b.N/benchConvLen)
	b.ResetTimer()
	cpu := wsCPUTime()
	res, _ := runReplay(b, rec, cfg)
	used := wsCPUTime() - cpu
	if res.Failures != 0 {
		b.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
	b.ReportMetric(float64(cfg.Iterations*benchConvLen)/used.Seconds(), "msgs/cpu-s")
}

// BenchmarkWSBareGo: the same echo loop from a bare Go client
// (github.com/coder/websocket), 4 goroutines.
func BenchmarkWSBareGo(b *testing.B) {
	srv := wsEchoServer(b)
	ctx := context.Background()
	convs := max(1, b.N/benchConvLen)
	msg := []byte(`{"type":"chat","text":"hello there, a message of a typical size"}`)
	b.ResetTimer()
	cpu := wsCPUTime()
	work := make(chan int, convs)
	for i := range convs {
		work <- i
	}
	close(work)
	errc := make(chan error, 4)
	for range 4 {
		go func() {
			for range work {
				c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/echo", nil)
				if err != nil {
					errc <- err
					return
				}
				for range benchConvLen {
					if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
						errc <- err
						return
					}
					if _, _, err := c.Read(ctx); err != nil {
						errc <- err
						return
					}
				}
				_ = c.Close(websocket.StatusNormalClosure, "")
			}
			errc <- nil
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	used := wsCPUTime() - cpu
	b.ReportMetric(float64(convs*benchConvLen)/used.Seconds(), "msgs/cpu-s")
}
