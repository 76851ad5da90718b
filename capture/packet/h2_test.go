package packet_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c" //lint:ignore SA1019 see TestH2CUpgrade
	"golang.org/x/net/http2/hpack"
)

// chunk is what one side of a connection sent in one write or read.
type chunk struct {
	fromClient bool
	data       []byte
}

// teeConn records the bytes of a client connection in both directions, in
// the order they passed.
type teeConn struct {
	net.Conn
	mu     *sync.Mutex
	chunks *[]chunk
}

func (c teeConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.note(false, p[:n])
	return n, err
}

func (c teeConn) Write(p []byte) (int, error) {
	c.note(true, p)
	return c.Conn.Write(p)
}

func (c teeConn) note(fromClient bool, p []byte) {
	if len(p) == 0 {
		return
	}
	c.mu.Lock()
	*c.chunks = append(*c.chunks, chunk{fromClient, bytes.Clone(p)})
	c.mu.Unlock()
}

// h2cHandler answers the requests of the h2c tests.
func h2cHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(b)
		case "/trailer":
			w.Header().Set("Trailer", "Grpc-Status")
			_, _ = w.Write([]byte("framed"))
			w.Header().Set("Grpc-Status", "14")
		default:
			w.Header().Set("Content-Type", "text/plain")
			_, _ = fmt.Fprintf(w, "page %s", r.URL.RequestURI())
		}
	})
}

// capturePcap writes the chunks as one TCP connection in a pcap file.
func capturePcap(t *testing.T, chunks []chunk) []byte {
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:8080")
	c.handshake()
	for _, ch := range chunks {
		for p := ch.data; len(p) > 0; {
			n := min(len(p), 1400)
			c.data(ch.fromClient, p[:n])
			p = p[n:]
		}
	}
	c.fin(true)
	c.fin(false)
	return b.pcap(0)
}

// TestH2CPriorKnowledge records a real h2c conversation (Go's client and
// server, prior knowledge; several streams at once, a 40 kB upload in many
// DATA frames, a response with trailers), writes it as a pcap and imports
// it: one exchange per stream with its method, URL, status, bodies and
// trailers, as HTTP/2.0.
func TestH2CPriorKnowledge(t *testing.T) {
	srv := httptest.NewUnstartedServer(h2cHandler())
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	var mu sync.Mutex
	var chunks []chunk
	protos := new(http.Protocols)
	protos.SetUnencryptedHTTP2(true)
	dials := 0
	tr := &http.Transport{Protocols: protos, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials++
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return teeConn{Conn: nc, mu: &mu, chunks: &chunks}, err
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(method, path string, body []byte) string {
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return ""
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	want := map[string]string{}
	want["/first"] = get("GET", "/first", nil)
	var wg sync.WaitGroup
	var wmu sync.Mutex
	for i := range 3 {
		wg.Go(func() {
			p := fmt.Sprintf("/together?i=%d", i)
			b := get("GET", p, nil)
			wmu.Lock()
			want[p] = b
			wmu.Unlock()
		})
	}
	wg.Wait()
	upload := bytes.Repeat([]byte("0123456789"), 4000)
	want["/echo"] = get("POST", "/echo", upload)
	want["/trailer"] = get("GET", "/trailer", nil)
	tr.CloseIdleConnections()
	if dials != 1 {
		t.Fatalf("the client dialled %d times, want 1 connection", dials)
	}
	mu.Lock()
	data := capturePcap(t, chunks)
	mu.Unlock()

	exs, st, err := importBytes(t, data, packet.Config{MaxBody: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 6 || st.HTTPStreams != 1 || len(st.Skipped) != 0 {
		t.Fatalf("%d exchanges (stats %+v), want 6 on one HTTP stream", len(exs), st)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, e := range exs {
		path := capture.URLTarget(e.Request.URL)
		if strings.HasPrefix(path, "/echo") {
			path = "/echo"
		}
		if e.Request.Proto != "HTTP/2.0" || e.Response.Proto != "HTTP/2.0" || e.Response.Status != 200 || e.Flags != 0 ||
			e.Request.URL != "http://"+host+capture.URLTarget(e.Request.URL) || string(e.Response.Body) != want[path] {
			t.Errorf("%s %s %s → %s %d %.40q flags %v; want 200 %.40q", e.Request.Method, e.Request.URL, e.Request.Proto, e.Response.Proto,
				e.Response.Status, e.Response.Body, e.Flags, want[path])
		}
		if e.Request.Header.Get("Host") != host || e.Request.Header.Get("User-Agent") == "" {
			t.Errorf("%s: request fields %v", e.Request.URL, e.Request.Header)
		}
		switch path {
		case "/echo":
			if e.Request.Method != "POST" || !bytes.Equal(e.Request.Body, upload) || e.Request.BodySize != int64(len(upload)) {
				t.Errorf("upload: %s with %d body bytes", e.Request.Method, len(e.Request.Body))
			}
		case "/trailer":
			if e.Response.Trailer.Get("Grpc-Status") != "14" {
				t.Errorf("trailers %v", e.Response.Trailer)
			}
		}
	}
}

// TestH2CUpgrade imports an "Upgrade: h2c" conversation (x/net's h2c
// handler; the client written frame by frame): the upgrading request is
// answered on stream 1 after the 101, a second request on stream 3.
func TestH2CUpgrade(t *testing.T) {
	//lint:ignore SA1019 net/http has no Upgrade: h2c; x/net's handler is the server that speaks it
	srv := httptest.NewServer(h2c.NewHandler(h2cHandler(), &http2.Server{}))
	defer srv.Close()
	var mu sync.Mutex
	var chunks []chunk
	nc, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	conn := teeConn{Conn: nc, mu: &mu, chunks: &chunks}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	host := strings.TrimPrefix(srv.URL, "http://")
	fmt.Fprintf(conn, "GET /up?x=1 HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, br)
	_ = fr.WriteSettings()
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":authority", host}, {":path", "/second"}, {"user-agent", "frames"}} {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: hb.Bytes(), EndStream: true, EndHeaders: true})
	ended := map[uint32]bool{}
	for !ended[1] || !ended[3] {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.DataFrame:
			ended[f.StreamID] = ended[f.StreamID] || f.StreamEnded()
		case *http2.HeadersFrame:
			ended[f.StreamID] = ended[f.StreamID] || f.StreamEnded()
		}
	}
	mu.Lock()
	data := capturePcap(t, chunks)
	mu.Unlock()
	exs, st, err := importBytes(t, data, packet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(exs, func(i, j int) bool { return exs[i].Request.URL < exs[j].Request.URL })
	if len(exs) != 2 || st.Interim != 1 {
		t.Fatalf("%d exchanges, stats %+v; want 2 and the 101 as interim", len(exs), st)
	}
	for i, w := range []struct{ url, proto, body string }{
		{"http://" + host + "/second", "HTTP/2.0", "page /second"},
		{"http://" + host + "/up?x=1", "HTTP/1.1", "page /up?x=1"},
	} {
		e := exs[i]
		if e.Request.URL != w.url || e.Request.Proto != w.proto || e.Response.Proto != "HTTP/2.0" || e.Response.Status != 200 ||
			string(e.Response.Body) != w.body || e.Flags != 0 {
			t.Errorf("%s %s → %s %d %q flags %v; want %s %q", e.Request.URL, e.Request.Proto, e.Response.Proto, e.Response.Status, e.Response.Body, e.Flags, w.url, w.body)
		}
	}
}
