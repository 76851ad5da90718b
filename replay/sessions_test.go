package replay

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the bytes its connections read and write.
type countingListener struct {
	net.Listener
	read, written *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.read, l.written}, nil
}

type countingConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Add(int64(n))
	return n, err
}

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written.Add(int64(n))
	return n, err
}

// TestReplayCountsSessionsAndBytes: each session that runs to its end counts
// once, as failed when one of its requests failed; bytes sent and received
// are what the target read and wrote, to the byte.
func TestReplayCountsSessionsAndBytes(t *testing.T) {
	t.Parallel()
	var read, written atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.RawQuery
		if strings.Contains(q, "i=1") && (strings.HasPrefix(q, "s=3&") || strings.HasPrefix(q, "s=7&")) {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Listener = countingListener{srv.Listener, &read, &written}
	srv.Start()
	defer srv.Close()

	rec := syntheticRecording("shop.example", 10, 3, 10*time.Millisecond)
	cfg := fastConfig(srv.URL)
	cfg.Timeline, cfg.Multiple, cfg.Speed = true, 1, 1
	res, _ := runReplay(t, rec, cfg)
	if res.Requests != 30 || res.Failures != 2 {
		t.Fatalf("%d requests, %d failures, want 30 and 2: %s", res.Requests, res.Failures, describeFailures(res))
	}
	if res.Sessions.Completed != 8 || res.Sessions.Failed != 2 {
		t.Fatalf("sessions %+v, want 8 completed and 2 failed (sessions 3 and 7)", res.Sessions)
	}
	srv.Close() // every connection is done: the counts are final
	if res.BytesSent != read.Load() || res.Bytes != written.Load() {
		t.Fatalf("bytes sent %d, received %d; the target read %d and wrote %d",
			res.BytesSent, res.Bytes, read.Load(), written.Load())
	}
	if res.Statuses["500"] != 2 || res.Statuses["200"] != 28 {
		t.Fatalf("statuses %v, want 28 × 200 and 2 × 500", res.Statuses)
	}
}
