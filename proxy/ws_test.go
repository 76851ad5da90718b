package proxy_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/proxy"
	"github.com/coder/websocket"
)

// wsEcho answers each message with "echo: " and the message, compressed
// with context takeover when compress is set.
func wsEcho(compress bool) http.Handler {
	mode := websocket.CompressionDisabled
	if compress {
		mode = websocket.CompressionContextTakeover
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: mode, CompressionThreshold: 1, InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, append([]byte("echo: "), msg...)); err != nil {
				return
			}
		}
	})
}

// wsConverse talks to url through client: three text messages, one binary,
// one fragmented, each answered; then a normal close.
func wsConverse(t *testing.T, client *http.Client, u string, compress bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	mode := websocket.CompressionDisabled
	if compress {
		mode = websocket.CompressionContextTakeover
	}
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: client, CompressionMode: mode, CompressionThreshold: 1})
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	defer c.CloseNow()
	send := func(typ websocket.MessageType, parts ...string) {
		w, err := c.Writer(ctx, typ)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range parts {
			if _, err := w.Write([]byte(p)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		_, got, err := c.Read(ctx)
		if want := "echo: " + strings.Join(parts, ""); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q", got, err, want)
		}
	}
	for _, m := range []string{"hello 1", "hello 2", "hello 3"} {
		send(websocket.MessageText, m)
	}
	send(websocket.MessageBinary, "\x00\x01\x02")
	send(websocket.MessageText, "frag", "mented ", strings.Repeat("x", 5000))
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// checkWS checks the recorded conversation of wsConverse.
func checkWS(t *testing.T, rec *capture.Recording, compress bool) {
	t.Helper()
	var ws *capture.Exchange
	for _, e := range exchanges(rec) {
		if e.IsWebSocket() {
			ws = e
		}
	}
	if ws == nil {
		t.Fatalf("no WebSocket exchange recorded among %d", rec.Exchanges())
	}
	if ws.Flags != 0 || ws.Error != "" {
		t.Errorf("flags %v, error %q", ws.Flags, ws.Error)
	}
	var sent, got []string
	closes := 0
	var last time.Duration
	for _, m := range ws.WS {
		if m.Offset < last {
			t.Errorf("message offsets go back: %v after %v", m.Offset, last)
		}
		last = m.Offset
		switch {
		case m.Opcode == capture.WSClose:
			closes++
		case m.FromServer:
			got = append(got, string(m.Data))
		default:
			sent = append(sent, string(m.Data))
		}
	}
	frag := "fragmented " + strings.Repeat("x", 5000)
	wantSent := []string{"hello 1", "hello 2", "hello 3", "\x00\x01\x02", frag}
	if strings.Join(sent, "|") != strings.Join(wantSent, "|") {
		t.Errorf("client messages %q, want %q", sent, wantSent)
	}
	if len(got) != 5 || got[0] != "echo: hello 1" || got[4] != "echo: "+frag {
		t.Errorf("server messages %q", got)
	}
	if closes != 2 {
		t.Errorf("%d close frames recorded, want both sides'", closes)
	}
	if ws.Duration < last {
		t.Errorf("duration %v ends before the last message at %v", ws.Duration, last)
	}
	if compress && !strings.Contains(ws.Response.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Errorf("compression was not negotiated: %q", ws.Response.Header.Get("Sec-WebSocket-Extensions"))
	}
}

func TestRecordWebSocketForward(t *testing.T) {
	for _, compress := range []bool{false, true} {
		up := httptest.NewServer(wsEcho(compress))
		tr := newTestRecorder(t, proxy.DefaultConfig())
		wsConverse(t, tr.proxyClient(nil), "ws"+strings.TrimPrefix(up.URL, "http")+"/chat", compress)
		checkWS(t, tr.Stop(t), compress)
		up.Close()
	}
}

func TestRecordWebSocketMITM(t *testing.T) {
	up := httptest.NewTLSServer(wsEcho(true))
	defer up.Close()
	cfg := proxy.DefaultConfig()
	cfg.UpstreamCA = writeCert(t, up)
	tr := newTestRecorder(t, cfg)
	wsConverse(t, tr.proxyClient(tr.caPool(t)), "wss"+strings.TrimPrefix(up.URL, "https")+"/chat", true)
	rec := tr.Stop(t)
	checkWS(t, rec, true)
	if e := exchanges(rec)[0]; !strings.HasPrefix(e.Request.URL, "https://") {
		t.Errorf("recorded URL %q, want https", e.Request.URL)
	}
}

func TestRecordWebSocketReverse(t *testing.T) {
	up := httptest.NewServer(wsEcho(false))
	defer up.Close()
	cfg := proxy.DefaultConfig()
	cfg.Target = up.URL
	tr := newTestRecorder(t, cfg)
	wsConverse(t, &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}, "ws://"+tr.Addr+"/chat", false)
	rec := tr.Stop(t)
	checkWS(t, rec, false)
	if u, _ := url.Parse(exchanges(rec)[0].Request.URL); u == nil || u.Host != strings.TrimPrefix(up.URL, "http://") {
		t.Errorf("recorded URL %q, want the target's", exchanges(rec)[0].Request.URL)
	}
}

// TestRecordWebSocketStop: a conversation still open when the recorder
// stops is recorded as far as it went, marked incomplete.
func TestRecordWebSocketStop(t *testing.T) {
	up := httptest.NewServer(wsEcho(false))
	defer up.Close()
	tr := newTestRecorder(t, proxy.DefaultConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(up.URL, "http"), &websocket.DialOptions{HTTPClient: tr.proxyClient(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(ctx, websocket.MessageText, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	rec := tr.Stop(t)
	es := exchanges(rec)
	if len(es) != 1 || len(es[0].WS) != 2 || es[0].Flags&capture.FlagIncomplete == 0 || !strings.Contains(es[0].Error, "stopped") {
		t.Fatalf("recorded %d exchanges; first: %d messages, flags %v, error %q", len(es), len(es[0].WS), es[0].Flags, es[0].Error)
	}
}

// TestRecordWebSocketCap: a conversation past Config.MaxConversation keeps
// its first messages, flagged truncated, and is still relayed whole.
func TestRecordWebSocketCap(t *testing.T) {
	up := httptest.NewServer(wsEcho(false))
	defer up.Close()
	cfg := proxy.DefaultConfig()
	cfg.MaxConversation = 100
	tr := newTestRecorder(t, cfg)
	wsConverse(t, tr.proxyClient(nil), "ws"+strings.TrimPrefix(up.URL, "http")+"/chat", false) // fails unless every echo came back
	es := exchanges(tr.Stop(t))
	if len(es) != 1 {
		t.Fatalf("%d exchanges", len(es))
	}
	kept := 0
	for _, m := range es[0].WS {
		kept += len(m.Data)
	}
	if kept > 100 || len(es[0].WS) < 8 || es[0].Flags&capture.FlagResponseTruncated == 0 || !strings.Contains(es[0].Error, "first 8 messages") {
		t.Errorf("%d messages of %d bytes kept, flags %v, error %q", len(es[0].WS), kept, es[0].Flags, es[0].Error)
	}
}
