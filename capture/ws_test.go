package capture_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

func wsExchange() *capture.Exchange {
	return &capture.Exchange{
		Start:    time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC),
		TTFB:     2 * time.Millisecond,
		Duration: 3 * time.Second,
		Request: capture.Request{Method: "GET", URL: "http://chat.example/ws", Proto: "HTTP/1.1",
			Header: capture.Headers{{Name: "Upgrade", Value: "websocket"}, {Name: "Connection", Value: "Upgrade"}}},
		Response: capture.Response{Status: 101, Proto: "HTTP/1.1",
			Header: capture.Headers{{Name: "Upgrade", Value: "WebSocket"}, {Name: "Connection", Value: "Upgrade"}}},
		WS: []capture.WSMessage{
			{Offset: 5 * time.Millisecond, Opcode: capture.WSText, Data: []byte(`{"token":"abc"}`), Size: 15},
			{Offset: 6 * time.Millisecond, FromServer: true, Opcode: capture.WSText, Data: []byte(`{"ok":true}`), Size: 11},
			{Offset: 7 * time.Millisecond, FromServer: true, Opcode: capture.WSBinary, Data: []byte{0, 1, 2}, Size: 1 << 20},
			{Offset: 8 * time.Millisecond, Opcode: capture.WSPing, Data: []byte{}, Size: 0},
			{Offset: 9 * time.Millisecond, Opcode: capture.WSClose, Data: []byte{3, 232}, Size: 2},
		},
	}
}

// TestWSRoundTrip: the messages of an upgraded exchange read back as
// written, a cut payload with its full size.
func TestWSRoundTrip(t *testing.T) {
	t.Parallel()
	e := wsExchange()
	data, _ := encodeFile(t, []*capture.Exchange{e, typicalExchange()})
	_, got, err := readAll(data)
	if err != nil || len(got) != 2 {
		t.Fatalf("read %d exchanges, err %v", len(got), err)
	}
	// An empty payload reads back as an empty slice or nil: compare by length.
	if len(got[0].WS) != len(e.WS) {
		t.Fatalf("read %d messages, wrote %d", len(got[0].WS), len(e.WS))
	}
	for i := range e.WS {
		w, g := e.WS[i], got[0].WS[i]
		if g.Offset != w.Offset || g.FromServer != w.FromServer || g.Opcode != w.Opcode || string(g.Data) != string(w.Data) || g.Size != w.Size {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
	if got[1].WS != nil {
		t.Errorf("a plain exchange read back with messages: %+v", got[1].WS)
	}
	if !got[0].IsWebSocket() || got[1].IsWebSocket() {
		t.Errorf("IsWebSocket: %v %v, want true false", got[0].IsWebSocket(), got[1].IsWebSocket())
	}
	if b := got[0].Bytes(); b < 1<<20 {
		t.Errorf("Bytes = %d, want the full size of the cut message counted", b)
	}
}

// TestWSOldReader: a reader that does not know field 32 (simulated by a
// record without it) and one that does read the other fields alike.
func TestWSOldReader(t *testing.T) {
	t.Parallel()
	e := wsExchange()
	plain := *e
	plain.WS = nil
	d1, _ := encodeFile(t, []*capture.Exchange{e})
	d2, _ := encodeFile(t, []*capture.Exchange{&plain})
	_, g1, err1 := readAll(d1)
	_, g2, err2 := readAll(d2)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	g1[0].WS = nil
	if !reflect.DeepEqual(g1[0], g2[0]) {
		t.Errorf("the WebSocket field changed the other fields:\n%+v\n%+v", g1[0], g2[0])
	}
}
