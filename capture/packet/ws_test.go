package packet_test

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
	"github.com/ampload/amp/capture/wsframe"
)

// deflated compresses p as a permessage-deflate sender with a fresh
// context would (the final 00 00 ff ff removed).
func deflated(p string) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	_, _ = w.Write([]byte(p))
	_ = w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// TestWebSocketCapture: after an upgrade, masked client frames (one split
// over three packets, one fragmented) and unmasked server frames, some
// compressed under permessage-deflate, import as the exchange's messages
// with the times of their packets; a plain request afterwards on another
// connection is unaffected.
func TestWebSocketCapture(t *testing.T) {
	t.Parallel()
	b := newBuilder(t, packet.LinkEthernet)
	c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
	c.handshake()
	c.send(true, "GET /ws HTTP/1.1\r\nHost: chat.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n")
	b.tick(time.Millisecond)
	c.send(false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n\r\n")
	mask := &[4]byte{0x11, 0x22, 0x33, 0x44}
	b.tick(10 * time.Millisecond)
	hello := string(wsframe.AppendFrame(nil, wsframe.OpText, []byte(`{"type":"hello","token":"abc"}`), mask))
	c.sendSplit(true, hello, 5, 10, len(hello)-15)
	b.tick(time.Millisecond)
	z := wsframe.AppendFrame(nil, wsframe.OpText, deflated(`{"type":"welcome","text":"hello hello hello"}`), nil)
	z[0] |= 0x40
	c.send(false, string(z))
	b.tick(100 * time.Millisecond)
	part1 := wsframe.AppendFrame(nil, wsframe.OpBinary, []byte{1, 2}, mask)
	part1[0] &^= 0x80
	ping := wsframe.AppendFrame(nil, wsframe.OpPing, nil, mask)
	part2 := wsframe.AppendFrame(nil, wsframe.OpContinuation, []byte{3}, mask)
	c.send(true, string(part1)+string(ping)+string(part2))
	b.tick(time.Millisecond)
	c.send(false, string(wsframe.AppendFrame(nil, wsframe.OpClose, []byte{3, 232}, nil)))
	c.send(true, string(wsframe.AppendFrame(nil, wsframe.OpClose, []byte{3, 232}, mask)))
	c.fin(false)
	c.fin(true)
	d := b.conn("10.0.0.1:40001", "10.0.0.2:80")
	d.handshake()
	d.send(true, "GET /after HTTP/1.1\r\nHost: chat.test\r\n\r\n")
	d.send(false, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	got, _, err := importBytes(t, b.pcap(0), packet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d exchanges, want 2", len(got))
	}
	var ws *capture.Exchange
	for _, e := range got {
		if e.IsWebSocket() {
			ws = e
		}
	}
	if ws == nil || ws.Flags != 0 {
		t.Fatalf("no clean WebSocket exchange: %+v", got)
	}
	var desc []string
	for _, m := range ws.WS {
		dir := "C"
		if m.FromServer {
			dir = "S"
		}
		desc = append(desc, dir+":"+capture.WSOpcodeName(m.Opcode)+":"+string(m.Data))
	}
	want := []string{`C:text:{"type":"hello","token":"abc"}`, `S:text:{"type":"welcome","text":"hello hello hello"}`,
		"C:ping:", "C:binary:\x01\x02\x03", "S:close:\x03\xe8", "C:close:\x03\xe8"}
	if strings.Join(desc, "|") != strings.Join(want, "|") {
		t.Errorf("messages\n %q\nwant\n %q", desc, want)
	}
	if off := ws.WS[0].Offset; off < 11*time.Millisecond || off > 12*time.Millisecond {
		t.Errorf("first message at %v, want 11ms after the request (its last packet)", off)
	}
	if ws.Duration < ws.WS[len(ws.WS)-1].Offset {
		t.Errorf("duration %v before the last message", ws.Duration)
	}
}
