package stats_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/stats"
)

// TestMessages: the WebSocket message counts of an upgrade endpoint reach
// the result, its totals, the JSON and the console report.
func TestMessages(t *testing.T) {
	t.Parallel()
	c := stats.NewCollector(stats.Config{})
	ep := c.Endpoint("GET", "/chat")
	r := c.NewRecorder()
	now := time.Now()
	for range 3 {
		r.Record(ep, &stats.Sample{Sent: now, Done: now.Add(time.Millisecond), Status: 101})
		c.AddMessages(ep, 7, 4)
	}
	r.Close()
	res := c.Snapshot()
	if len(res.Endpoints) != 1 || res.Endpoints[0].MessagesSent != 21 || res.Endpoints[0].MessagesReceived != 12 {
		t.Fatalf("endpoints %+v", res.Endpoints)
	}
	if res.MessagesSent != 21 || res.MessagesReceived != 12 {
		t.Errorf("totals: %d sent, %d received; want 21, 12", res.MessagesSent, res.MessagesReceived)
	}
	var buf bytes.Buffer
	if err := res.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back stats.Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Endpoints[0].MessagesSent != 21 {
		t.Errorf("JSON: %v, %+v", err, back.Endpoints)
	}
	buf.Reset()
	if err := stats.NewConsole(&buf, false).Final(res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "GET /chat: 21 sent, 12 received") {
		t.Errorf("console report without the message counts:\n%s", buf.String())
	}
	buf.Reset()
	if err := stats.WriteHTML(&buf, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<table id="websocket">`) || !strings.Contains(buf.String(), "<td>21</td><td>12</td>") {
		t.Errorf("HTML report without the message counts")
	}
	c.Reset()
	if got := c.Snapshot(); len(got.Endpoints) != 0 && got.Endpoints[0].MessagesSent != 0 {
		t.Errorf("Reset kept the message counts: %+v", got.Endpoints)
	}
}
