package stats

import (
	"fmt"
	"strings"
)

// AddMessages counts the WebSocket data messages one conversation sent and
// received on the endpoint of its upgrade (Stats.MessagesSent and
// MessagesReceived).
func (c *Collector) AddMessages(ep Endpoint, sent, received int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.messages == nil {
		c.messages = map[Endpoint][2]int64{}
	}
	m := c.messages[ep]
	m[0] += sent
	m[1] += received
	c.messages[ep] = m
}

// messageCounts returns a copy of the message counts (the caller holds mu).
func (c *Collector) messageCounts() map[Endpoint][2]int64 {
	if len(c.messages) == 0 {
		return nil
	}
	out := make(map[Endpoint][2]int64, len(c.messages))
	for k, v := range c.messages {
		out[k] = v
	}
	return out
}

// webSockets writes the console's WebSocket lines: per upgrade endpoint, the
// messages its conversations sent and received.
func (l layout) webSockets(b *strings.Builder, r *Result) {
	first := true
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		if e.MessagesSent == 0 && e.MessagesReceived == 0 {
			continue
		}
		if first {
			b.WriteString("\nWebSocket messages (connect time: the upgrade's latency above; reply latency: the WS rows)\n")
			first = false
		}
		l.prose(b, "  ", fmt.Sprintf("%s: %d sent, %d received", e.Label(), e.MessagesSent, e.MessagesReceived), 4)
	}
}
