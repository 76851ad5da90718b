package packet

import (
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/wsframe"
)

// wsConv is the WebSocket conversation of a connection whose request
// upgraded (101 with Upgrade: websocket): both directions' frames are read
// into messages, and the upgrade's exchange is handed over with them when
// the connection ends.
type wsConv struct {
	resp     *message // the 101
	start    time.Time
	readers  [2]wsframe.Reader // by half index
	broken   [2]bool
	msgs     []capture.WSMessage
	last     time.Time
	maxBody  int
	problems string
}

// startWS makes the connection read WebSocket frames after the 101 m, if m
// switched to WebSocket; it reports whether it did.
func (c *conn) startWS(m *message) bool {
	if m.status != 101 || !hasToken(m.header.Get("Upgrade"), "websocket") || len(c.pending) == 0 {
		return false
	}
	w := &wsConv{resp: m, maxBody: c.maxBody(), last: m.end.ts}
	for _, p := range c.pending {
		if p.resp == m {
			w.start = p.req.start.ts
		}
	}
	ext := strings.ToLower(m.header.Get("Sec-WebSocket-Extensions"))
	if strings.Contains(ext, "permessage-deflate") {
		for i := range w.readers {
			w.readers[i].Deflate = true
		}
		ci, si := c.halfIndex(c.clientHalf()), c.halfIndex(c.serverHalf())
		w.readers[ci].NoContextTakeover = strings.Contains(ext, "client_no_context_takeover")
		w.readers[si].NoContextTakeover = strings.Contains(ext, "server_no_context_takeover")
	}
	c.ws = w
	c.upgraded = true
	for i := range c.halves {
		c.halves[i].state = stWS
		c.halves[i].buf = nil
	}
	return true
}

func (c *conn) halfIndex(h *half) int {
	if h == &c.halves[0] {
		return 0
	}
	return 1
}

// wsFeed reads frame bytes of half h; the messages they complete are
// stamped with the time of the packet that carried the last of them.
func (c *conn) wsFeed(h *half, data []byte, clk clock) {
	w := c.ws
	i := c.halfIndex(h)
	if w == nil || w.broken[i] || len(data) == 0 {
		return
	}
	ts := clk.at(len(data) - 1).ts
	if ts.Before(w.last) {
		ts = w.last
	}
	w.last = ts
	fromServer := h.role == roleServer
	err := w.readers[i].Feed(data, func(m wsframe.Message) error {
		keep := m.Data
		if w.maxBody > 0 && len(keep) > w.maxBody {
			keep = keep[:w.maxBody]
		}
		w.msgs = append(w.msgs, capture.WSMessage{
			Offset: max(0, ts.Sub(w.start)), FromServer: fromServer, Opcode: m.Opcode,
			Data: append([]byte{}, keep...), Size: int64(len(m.Data)),
		})
		return nil
	})
	if err != nil {
		w.broken[i] = true
		w.problems = "websocket frames unreadable: " + err.Error()
	}
}

// wsGap notes bytes of half h missing from the capture: that direction's
// frames can no longer be read.
func (c *conn) wsGap(h *half) {
	if c.ws != nil {
		c.ws.broken[c.halfIndex(h)] = true
		c.ws.problems = "websocket frames lost in a gap of the capture"
	}
}

// wsExchange adds the conversation to the upgrade's exchange e.
func (c *conn) wsExchange(e *capture.Exchange, resp *message) {
	w := c.ws
	if w == nil || w.resp != resp {
		return
	}
	e.WS = w.msgs
	if n := len(w.msgs); n > 0 {
		e.Duration = max(e.Duration, w.msgs[n-1].Offset)
	}
	pending := w.readers[0].Pending() || w.readers[1].Pending()
	if w.problems != "" || pending {
		e.Flags |= capture.FlagIncomplete
		if e.Error == "" {
			e.Error = w.problems
			if e.Error == "" {
				e.Error = "websocket connection ended inside a frame"
			}
		}
	}
}

// hasToken reports whether the comma-separated list v holds tok (any case).
func hasToken(v, tok string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}
