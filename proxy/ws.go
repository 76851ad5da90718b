package proxy

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/wsframe"
)

// wsTap is the upstream side of a WebSocket conversation (the body of the
// 101 response, which goproxy relays to the hijacked client connection): it
// reads both directions' frames as they pass and records the messages. The
// exchange is written when the conversation ends, or when the recorder stops
// during it (then marked incomplete).
type wsTap struct {
	io.ReadWriteCloser // the upstream connection
	r                  *Recorder
	x                  *exchange
	client             net.Conn // closed with the conversation

	mu           sync.Mutex
	msgs         []capture.WSMessage
	fromClient   wsframe.Reader
	fromServer   wsframe.Reader
	broken       string // why the frames stopped being read, or ""
	done         bool
	emitC, emitS func(wsframe.Message) error
	closeOnce    sync.Once
	closing      bool  // a close frame has passed: the conversation is ending
	kept         int64 // payload bytes kept
	cut          bool  // Config.MaxConversation reached
}

// newWSTap taps a WebSocket conversation whose 101 response x recorded.
func (r *Recorder) newWSTap(body io.ReadWriteCloser, x *exchange, client net.Conn) *wsTap {
	t := &wsTap{ReadWriteCloser: body, r: r, x: x, client: client}
	ext := strings.ToLower(x.respHeader.Get("Sec-WebSocket-Extensions"))
	if strings.Contains(ext, "permessage-deflate") {
		t.fromClient.Deflate, t.fromServer.Deflate = true, true
		t.fromClient.NoContextTakeover = strings.Contains(ext, "client_no_context_takeover")
		t.fromServer.NoContextTakeover = strings.Contains(ext, "server_no_context_takeover")
	}
	t.emitC = func(m wsframe.Message) error { return t.add(m, false) }
	t.emitS = func(m wsframe.Message) error { return t.add(m, true) }
	return t
}

// add records one message (the caller holds mu).
func (t *wsTap) add(m wsframe.Message, fromServer bool) error {
	if m.Opcode == wsframe.OpClose {
		t.closing = true
	}
	keep := m.Data
	if int64(len(keep)) > t.r.cfg.MaxBody {
		keep = keep[:t.r.cfg.MaxBody]
	}
	limit := t.r.cfg.MaxConversation
	if limit <= 0 {
		limit = DefaultMaxConversation
	}
	if t.cut || t.kept+int64(len(keep)) > limit {
		t.cut = true
		return nil
	}
	t.kept += int64(len(keep))
	t.msgs = append(t.msgs, capture.WSMessage{
		Offset:     time.Since(t.x.start),
		FromServer: fromServer,
		Opcode:     m.Opcode,
		Data:       append([]byte{}, keep...),
		Size:       int64(len(m.Data)),
	})
	return nil
}

// feed passes bytes of one direction to its Reader.
func (t *wsTap) feed(p []byte, fromServer bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done || t.broken != "" {
		return
	}
	rd, emit := &t.fromClient, t.emitC
	if fromServer {
		rd, emit = &t.fromServer, t.emitS
	}
	if err := rd.Feed(p, emit); err != nil {
		side := "client"
		if fromServer {
			side = "server"
		}
		t.broken = "websocket frames from the " + side + " unreadable: " + err.Error()
	}
}

// Read reads what the server sent, for the client.
func (t *wsTap) Read(p []byte) (int, error) {
	n, err := t.ReadWriteCloser.Read(p)
	if n > 0 {
		t.feed(p[:n], true)
	}
	return n, err
}

// Write sends what the client sent to the server.
func (t *wsTap) Write(p []byte) (int, error) {
	t.feed(p, false)
	return t.ReadWriteCloser.Write(p)
}

// Close ends the conversation: both connections are closed and the exchange
// is written.
func (t *wsTap) Close() error {
	var err error
	t.closeOnce.Do(func() {
		err = t.ReadWriteCloser.Close()
		if t.client != nil {
			_ = t.client.Close()
		}
		t.finish("")
	})
	return err
}

// finish writes the exchange with the messages so far, once. cut is set when
// the recorder stops during the conversation.
func (t *wsTap) finish(cut string) {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return
	}
	t.done = true
	x := t.x
	x.ws = t.msgs
	x.end = time.Now()
	switch {
	case cut != "":
		x.flags |= capture.FlagIncomplete
		x.err = cut
	case t.broken != "":
		x.flags |= capture.FlagIncomplete
		x.err = t.broken
	case t.fromClient.Pending() || t.fromServer.Pending():
		x.flags |= capture.FlagIncomplete
		x.err = "websocket connection closed inside a frame"
	}
	if t.cut {
		x.flags |= capture.FlagResponseTruncated
		if x.err == "" {
			x.err = fmt.Sprintf("websocket conversation recorded up to its first %d messages (the cap on a conversation's bytes)", len(t.msgs))
		}
	}
	t.mu.Unlock()
	t.r.forgetWS(t)
	t.r.inflight.Add(1) // finish counts it out again
	t.r.finish(x)
}

// trackWS notes an open conversation, so that stopping can record it.
func (r *Recorder) trackWS(t *wsTap) {
	r.wsMu.Lock()
	defer r.wsMu.Unlock()
	if r.wsOpen == nil {
		r.wsOpen = map[*wsTap]struct{}{}
	}
	r.wsOpen[t] = struct{}{}
}

func (r *Recorder) forgetWS(t *wsTap) {
	r.wsMu.Lock()
	delete(r.wsOpen, t)
	r.wsMu.Unlock()
}

// finishWS records the conversations still open when recording stops, as
// far as they went, marked incomplete; those whose close handshake has begun
// are given until ctx ends to finish it.
func (r *Recorder) finishWS(ctx context.Context) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		r.wsMu.Lock()
		var open, ending []*wsTap
		for t := range r.wsOpen {
			t.mu.Lock()
			if t.closing {
				ending = append(ending, t)
			} else {
				open = append(open, t)
			}
			t.mu.Unlock()
		}
		r.wsMu.Unlock()
		for _, t := range open {
			t.finish("recording stopped during the websocket conversation")
		}
		if len(ending) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			for _, t := range ending {
				t.finish("recording stopped during the websocket close handshake")
			}
			return
		case <-tick.C:
		}
	}
}

// isWebSocket reports whether a 101 response switched to WebSocket.
func isWebSocket(h map[string][]string) bool {
	for k, vs := range h {
		if !strings.EqualFold(k, "Upgrade") {
			continue
		}
		for _, v := range vs {
			for _, tok := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), "websocket") {
					return true
				}
			}
		}
	}
	return false
}
