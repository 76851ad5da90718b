package har_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
)

// chromeWS is an entry as Chrome's DevTools export a WebSocket: the 101
// with its headers, and _webSocketMessages with Unix times in seconds,
// binary payloads in base64.
const chromeWS = `{"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"}, "pages": [],
 "entries": [
  {"_resourceType": "websocket", "startedDateTime": "2026-12-02T06:00:00.000Z", "time": 2.5,
   "request": {"method": "GET", "url": "wss://chat.test/socket?room=1", "httpVersion": "HTTP/1.1",
    "headers": [{"name": "Upgrade", "value": "websocket"}, {"name": "Connection", "value": "Upgrade"},
     {"name": "Sec-WebSocket-Key", "value": "dGhlIHNhbXBsZSBub25jZQ=="}, {"name": "Sec-WebSocket-Version", "value": "13"}]},
   "response": {"status": 101, "statusText": "Switching Protocols", "httpVersion": "HTTP/1.1",
    "headers": [{"name": "Upgrade", "value": "websocket"}, {"name": "Connection", "value": "Upgrade"},
     {"name": "Sec-WebSocket-Accept", "value": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}], "content": {"size": 0, "mimeType": "x-unknown"}},
   "timings": {"blocked": -1, "dns": -1, "connect": -1, "send": 0, "wait": 2.5, "receive": 0},
   "_webSocketMessages": [
    {"type": "send", "time": 1796191200.010, "opcode": 1, "data": "{\"type\":\"hello\",\"token\":\"5f2c9a7e1b3d4c6a\"}"},
    {"type": "receive", "time": 1796191200.012, "opcode": 1, "data": "{\"type\":\"welcome\"}"},
    {"type": "send", "time": 1796191200.500, "opcode": 2, "data": "AAEC"},
    {"type": "receive", "time": 1796191200.501, "opcode": 2, "data": "AwQ="},
    {"type": "receive", "time": 1796191201.000, "opcode": 1, "data": "{\"type\":\"news\"}"}
   ]}
 ]}}`

func TestWebSocketMessages(t *testing.T) {
	t.Parallel()
	l, err := har.Read(strings.NewReader(chromeWS))
	if err != nil {
		t.Fatal(err)
	}
	exs, _ := l.Exchanges(har.Config{Name: "chat.har"})
	if len(exs) != 1 {
		t.Fatalf("%d exchanges", len(exs))
	}
	e := exs[0]
	if !e.IsWebSocket() || len(e.WS) != 5 {
		t.Fatalf("status %d, %d messages; want an accepted upgrade with 5", e.Response.Status, len(e.WS))
	}
	sent, received := 0, 0
	for _, m := range e.WS {
		if m.FromServer {
			received++
		} else {
			sent++
		}
	}
	if sent != 2 || received != 3 {
		t.Errorf("%d sent, %d received; want 2 and 3", sent, received)
	}
	if m := e.WS[0]; m.Opcode != capture.WSText || string(m.Data) != `{"type":"hello","token":"5f2c9a7e1b3d4c6a"}` || m.Offset < 9*time.Millisecond || m.Offset > 11*time.Millisecond {
		t.Errorf("first message %+v (offset %v)", m, m.Offset)
	}
	if m := e.WS[2]; m.Opcode != capture.WSBinary || string(m.Data) != "\x00\x01\x02" {
		t.Errorf("binary message %q, want base64-decoded", m.Data)
	}
	if e.Duration < time.Second {
		t.Errorf("duration %v ends before the last message", e.Duration)
	}
	if e.TTFB != 2500*time.Microsecond {
		t.Errorf("time to first byte %v, want the 2.5 ms waited", e.TTFB)
	}

	// Chrome's HAR writer measures a WebSocket's wait to its last message
	// (each one moves the request's response time): the 101 came before
	// the first message.
	devtools := strings.Replace(chromeWS, `"send": 0, "wait": 2.5, "receive": 0`, `"send": 0, "wait": 1000, "receive": 40`, 1)
	l, err = har.Read(strings.NewReader(devtools))
	if err != nil {
		t.Fatal(err)
	}
	exs, _ = l.Exchanges(har.Config{Name: "chat.har"})
	if e := exs[0]; e.TTFB != e.WS[0].Offset || e.Duration != 1040*time.Millisecond {
		t.Errorf("DevTools' timings: time to first byte %v (first message at %v), duration %v; want the first message's offset and 1.04 s", e.TTFB, e.WS[0].Offset, e.Duration)
	}
}
