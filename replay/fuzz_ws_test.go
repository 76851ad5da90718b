package replay

import (
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

// FuzzLearnWS: whatever a login page and a conversation's messages hold,
// learning neither panics nor places a live value outside its message, and
// every rule it finds for a message comes from the page or the
// conversation before the message.
func FuzzLearnWS(f *testing.F) {
	f.Add(`<meta name="t" content="a1b2c3d4e5f6a7b8">`, `{"type":"welcome","id":"m1234567890"}`, `{"type":"hello","token":"a1b2c3d4e5f6a7b8","ack":"m1234567890"}`)
	f.Add(`{"token":"zzzzzzzzzzzz1"}`, `42["msg",{"sid":"q9q9q9q9q9"}]`, `42["join",{"sid":"q9q9q9q9q9"}]`)
	f.Add(``, `x`, `a1b2c3d4e5f6a7b8c9`)
	f.Fuzz(func(t *testing.T, page, server, client string) {
		start := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
		s := &capture.Session{ID: "s", Exchanges: []*capture.Exchange{
			{Start: start, Request: capture.Request{Method: "GET", URL: "http://c.test/login"},
				Response: capture.Response{Status: 200, Header: capture.Headers{{Name: "Content-Type", Value: "text/html"}}, Body: []byte(page)}},
			{Start: start.Add(time.Second), Request: capture.Request{Method: "GET", URL: "http://c.test/chat"},
				Response: capture.Response{Status: 101, Header: capture.Headers{{Name: "Upgrade", Value: "websocket"}}},
				WS: []capture.WSMessage{
					{Offset: time.Millisecond, FromServer: true, Opcode: capture.WSText, Data: []byte(server)},
					{Offset: 2 * time.Millisecond, Opcode: capture.WSText, Data: []byte(client)},
				}},
		}}
		l := learnSpans(s)
		for _, r := range l.rules {
			if r.Source.Task < 0 || r.Source.Task > 1 {
				t.Fatalf("rule source task %d", r.Source.Task)
			}
		}
		for k, spans := range l.ws[1] {
			data := s.Exchanges[1].WS[k].Data
			for _, sp := range spans {
				if sp.part != partBody || sp.start < 0 || sp.end > len(data) || sp.start > sp.end || sp.rule >= len(l.rules) {
					t.Fatalf("span %+v outside message %d of %d bytes (%d rules)", sp, k, len(data), len(l.rules))
				}
				if s.Exchanges[1].WS[k].FromServer {
					t.Fatalf("a span in a server message")
				}
			}
		}
	})
}

// TestLearnWS: a value from the server's earlier message (after a
// Socket.IO-style prefix) and one from the login page are found in a client
// message, each at its place.
func TestLearnWS(t *testing.T) {
	start := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	client := `42["join",{"sid":"q9q9q9q9q9","token":"a1b2c3d4e5f6a7b8"}]`
	s := &capture.Session{ID: "s", Exchanges: []*capture.Exchange{
		{Start: start, Request: capture.Request{Method: "GET", URL: "http://c.test/login"},
			Response: capture.Response{Status: 200, Header: capture.Headers{{Name: "Content-Type", Value: "text/html"}}, Body: []byte(`<meta name="t" content="a1b2c3d4e5f6a7b8">`)}},
		{Start: start.Add(time.Second), Request: capture.Request{Method: "GET", URL: "http://c.test/chat"},
			Response: capture.Response{Status: 101, Header: capture.Headers{{Name: "Upgrade", Value: "websocket"}}},
			WS: []capture.WSMessage{
				{Offset: time.Millisecond, FromServer: true, Opcode: capture.WSText, Data: []byte(`42["msg",{"sid":"q9q9q9q9q9"}]`)},
				{Offset: 2 * time.Millisecond, Opcode: capture.WSText, Data: []byte(client)},
			}},
	}}
	l := learnSpans(s)
	got := map[string]string{}
	for _, sp := range l.ws[1][1] {
		r := l.rules[sp.rule]
		got[client[sp.start:sp.end]] = string(r.Source.Kind) + " " + r.Source.Name + " task " + string(rune('0'+r.Source.Task))
	}
	if got["q9q9q9q9q9"] != "websocket $[1].sid task 1" || got["a1b2c3d4e5f6a7b8"] != "attr meta[name=t] task 0" {
		t.Errorf("learned %v", got)
	}
}
