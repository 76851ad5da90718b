package ingest_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/ampload/amp/capture/ingest"
	"github.com/ampload/amp/capture/packet"
	"github.com/ampload/amp/internal/testenv"
)

// TestCapture captures three requests on the loopback interface (as root;
// skipped otherwise, but not under CI): each exchange reaches the sink with
// its session key, and the sink is flushed after every one.
func TestCapture(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "live capture needs root (a raw packet socket): run the tests as root")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer srv.Close()
	port := uint16(srv.Listener.Addr().(*net.TCPAddr).Port)
	live, err := packet.OpenLive(packet.LiveConfig{Interface: "lo", Ports: []uint16{port}})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var s sink
	type result struct {
		st  ingest.Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, _, err := ingest.Capture(ctx, ingest.Config{Ports: []uint16{port}}, live, &s)
		done <- result{st, err}
	}()
	client := &http.Client{}
	for _, p := range []string{"/a", "/b", "/c"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	client.CloseIdleConnections()
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.st.Requests != 3 || len(s.exs) != 3 || s.flushes != 3 || r.st.Sessions != 1 {
		t.Fatalf("stats %+v, %d exchanges, %d flushes; want 3 of each in 1 session", r.st, len(s.exs), s.flushes)
	}
	for _, e := range s.exs {
		if e.Session != "1" || e.Response.Status != 200 {
			t.Errorf("%s %s: session %q, status %d", e.Request.Method, e.Request.URL, e.Session, e.Response.Status)
		}
	}
}
