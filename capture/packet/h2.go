package packet

import (
	"bytes"
	"encoding/binary"
	"strings"

	"github.com/ampload/amp/capture"
	"golang.org/x/net/http2/hpack"
)

// HTTP/2 over cleartext (h2c). A connection speaks it from its first bytes
// when the client starts with the HTTP/2 preface (prior knowledge), or after
// a 101 Switching Protocols answering "Upgrade: h2c" (the request that asked
// becomes stream 1, answered in HTTP/2). Both directions are then read as
// HTTP/2 frames: header blocks are decoded with HPACK (one decoder per
// direction, which must see every block in order), each stream becomes an
// exchange (pseudo-header fields make the method, URL and status; DATA
// frames the bodies; a second header block the trailers) queued in the
// connection in the order the streams were opened. A gap in the capture
// loses HPACK's state: the streams under way are handed over incomplete and
// the rest of the connection is skipped.

// h2Preface is what an HTTP/2 client sends first.
const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Limits of the HTTP/2 reader.
const (
	maxH2Frame   = 1 << 20 // the largest frame read (HTTP/2 allows 16 MiB; peers rarely go past 16 KiB)
	maxH2Streams = 4096    // streams under way per connection
)

// HTTP/2 frame types and flags (RFC 9113, section 6).
const (
	h2Data         = 0x0
	h2Headers      = 0x1
	h2RSTStream    = 0x3
	h2Settings     = 0x4
	h2PushPromise  = 0x5
	h2Continuation = 0x9

	h2FlagEndStream  = 0x1
	h2FlagAck        = 0x1
	h2FlagEndHeaders = 0x4
	h2FlagPadded     = 0x8
	h2FlagPriority   = 0x20
)

// h2conn is the HTTP/2 state of a connection.
type h2conn struct {
	c       *conn
	sides   [2]h2side // [0] the client's direction, [1] the server's
	streams map[uint32]*pair
}

// h2side reads one direction's frames.
type h2side struct {
	preface int    // preface bytes still to skip
	buf     []byte // a frame not yet whole
	bufInfo pktInfo
	dec     *hpack.Decoder
	fields  []hpack.HeaderField // the block being decoded

	block       []byte // a header block awaiting its CONTINUATION frames
	blockStream uint32
	blockEnd    bool // its HEADERS frame ended the stream
	blockPush   bool // a PUSH_PROMISE's: decoded for HPACK's state only
	blockStart  pktInfo
	open        bool // block holds a block whose END_HEADERS has not come
}

// startH2 makes the connection HTTP/2 from now on, with h the half that
// sent the preface (or that will) as the client.
func (c *conn) startH2(client *half) *h2conn {
	if c.h2 == nil {
		if client.role == roleUnknown {
			c.setRole(client, roleClient)
		}
		c.h2 = &h2conn{c: c, streams: map[uint32]*pair{}}
		for i := range c.h2.sides {
			s := &c.h2.sides[i]
			s.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) { s.fields = append(s.fields, f) })
			s.dec.SetMaxStringLength(maxHeaderBytes)
		}
		c.h2.sides[0].preface = len(h2Preface)
		c.httpSeen = true
	}
	return c.h2
}

// isH2Start reports whether data, at a message start of h, is the HTTP/2
// preface: on the first bytes of the connection, or after an h2c upgrade.
func (h *half) isH2Start(data []byte) bool {
	if h.role == roleServer || !bytes.HasPrefix(data, []byte("PRI * HTTP/2.0")) {
		return false
	}
	return h.c.h2 != nil || h.msgs == 0 && !h.c.httpSeen
}

// enterH2 switches h, the client's half at its preface, to HTTP/2, and the
// server's half too under prior knowledge (after an upgrade it already is),
// with what it held while the preface was still coming.
func (h *half) enterH2() {
	sh := h.c.other(h)
	if h.c.h2 == nil {
		sh.state = stH2
	}
	h.c.startH2(h)
	h.state = stH2
	sh.resume()
}

// awaitsPreface reports whether the server's half h, at its first bytes,
// must wait for the client's: the client has sent the start of the HTTP/2
// preface but not all of it yet.
func (h *half) awaitsPreface() bool {
	ch := h.c.other(h)
	return h.role == roleServer && h.msgs == 0 && !h.c.httpSeen && len(ch.buf) > 0 && len(ch.buf) < len("PRI * HTTP/2.0") &&
		strings.HasPrefix(h2Preface, string(ch.buf))
}

// upgradeH2 handles a 101 answering "Upgrade: h2c": the request it answers
// becomes stream 1, the 101 an interim response; the server's half reads
// frames from here on, the client's from its preface.
func (h *half) upgradeH2(m *message) {
	c := h.c
	var p *pair
	for _, q := range c.pending {
		if q.resp == m {
			p = q
		}
	}
	if p == nil {
		c.leaveHTTP()
		return
	}
	p.resp = nil
	c.im.stats.Interim++
	hc := c.startH2(c.clientHalf())
	hc.streams[1] = p
	h.state = stH2
}

// sideOf returns the HTTP/2 side of half h and whether it is the client's.
func (hc *h2conn) sideOf(h *half) (*h2side, bool) {
	if h == hc.c.clientHalf() {
		return &hc.sides[0], true
	}
	return &hc.sides[1], false
}

// feed reads frames from data (at offset off of clk) and returns how much
// it used: all of it.
func (hc *h2conn) feed(h *half, data []byte, clk clock, off int) int {
	s, client := hc.sideOf(h)
	n := len(data)
	if s.preface > 0 {
		k := min(s.preface, len(data))
		if string(data[:k]) != h2Preface[len(h2Preface)-s.preface:][:k] {
			hc.lost()
			return n
		}
		s.preface -= k
		data, off = data[k:], off+k
	}
	for len(data) > 0 && hc.c.h2 == hc && h.state == stH2 {
		var frame []byte
		var start pktInfo
		if len(s.buf) > 0 || len(data) < 9 {
			if len(s.buf) == 0 {
				s.bufInfo = clk.at(off)
			}
			need := 9
			if len(s.buf) >= 9 {
				need = 9 + int(uint32(s.buf[0])<<16|uint32(s.buf[1])<<8|uint32(s.buf[2]))
			} else if len(s.buf)+len(data) >= 9 {
				hdr := append(s.buf[:len(s.buf):len(s.buf)], data[:9-len(s.buf)]...)
				need = 9 + int(uint32(hdr[0])<<16|uint32(hdr[1])<<8|uint32(hdr[2]))
			}
			if need-9 > maxH2Frame {
				hc.lost()
				return n
			}
			k := min(need-len(s.buf), len(data))
			s.buf = append(s.buf, data[:k]...)
			data, off = data[k:], off+k
			if len(s.buf) < need {
				return n
			}
			frame, start = s.buf, s.bufInfo
			s.buf = s.buf[:0:0] // frame keeps the bytes
		} else {
			size := 9 + int(uint32(data[0])<<16|uint32(data[1])<<8|uint32(data[2]))
			if size-9 > maxH2Frame {
				hc.lost()
				return n
			}
			if size > len(data) {
				s.bufInfo = clk.at(off)
				s.buf = append(s.buf[:0], data...)
				return n
			}
			frame, start = data[:size], clk.at(off)
			data, off = data[size:], off+size
		}
		hc.frame(s, client, frame, start, clk.at(max(off-1, 0)))
	}
	return n
}

// frame handles one whole frame (its 9-byte header and payload).
func (hc *h2conn) frame(s *h2side, client bool, f []byte, start, end pktInfo) {
	typ, flags := f[3], f[4]
	sid := binary.BigEndian.Uint32(f[5:9]) & 0x7fffffff
	p := f[9:]
	if s.open && typ != h2Continuation {
		hc.lost() // a header block must be followed by its CONTINUATION frames
		return
	}
	switch typ {
	case h2Data:
		if p = unpad(p, flags); p == nil {
			hc.lost()
			return
		}
		hc.data(client, sid, p, flags&h2FlagEndStream != 0, end)
	case h2Headers, h2PushPromise:
		if p = unpad(p, flags); p == nil {
			hc.lost()
			return
		}
		skip := 0
		if typ == h2Headers && flags&h2FlagPriority != 0 {
			skip = 5
		} else if typ == h2PushPromise {
			skip = 4
		}
		if len(p) < skip {
			hc.lost()
			return
		}
		s.block = append(s.block[:0], p[skip:]...)
		s.blockStream, s.blockEnd, s.blockPush, s.blockStart, s.open = sid, flags&h2FlagEndStream != 0, typ == h2PushPromise, start, true
		if flags&h2FlagEndHeaders != 0 {
			hc.endBlock(s, client, end)
		}
	case h2Continuation:
		if !s.open || sid != s.blockStream || len(s.block)+len(p) > maxHeaderBytes {
			hc.lost()
			return
		}
		s.block = append(s.block, p...)
		if flags&h2FlagEndHeaders != 0 {
			hc.endBlock(s, client, end)
		}
	case h2Settings:
		if flags&h2FlagAck != 0 {
			return
		}
		for ; len(p) >= 6; p = p[6:] {
			if binary.BigEndian.Uint16(p) == 1 { // SETTINGS_HEADER_TABLE_SIZE bounds the peer's encoder
				other := &hc.sides[0]
				if client {
					other = &hc.sides[1]
				}
				other.dec.SetAllowedMaxDynamicTableSize(min(binary.BigEndian.Uint32(p[2:]), 1<<20))
			}
		}
	case h2RSTStream:
		if q := hc.streams[sid]; q != nil {
			hc.reset(sid, q)
		}
	}
}

// unpad returns a padded frame's payload without its padding, or nil when
// the padding does not fit.
func unpad(p []byte, flags byte) []byte {
	if flags&h2FlagPadded == 0 {
		return p
	}
	if len(p) < 1 || int(p[0]) > len(p)-1 {
		return nil
	}
	return p[1 : len(p)-int(p[0])]
}

// data adds a DATA frame's payload to its stream's message.
func (hc *h2conn) data(client bool, sid uint32, p []byte, endStream bool, end pktInfo) {
	q := hc.streams[sid]
	if q == nil {
		return
	}
	m, ended := q.resp, q.respDone
	if client {
		m, ended = q.req, q.reqDone
	}
	if m == nil || ended { // nothing may follow a direction's END_STREAM
		return
	}
	m.addBody(p)
	m.end = end
	if endStream {
		hc.endStream(client, sid, q)
	}
}

// endBlock decodes a complete header block and applies it to its stream.
func (hc *h2conn) endBlock(s *h2side, client bool, end pktInfo) {
	s.open = false
	s.fields = s.fields[:0]
	if _, err := s.dec.Write(s.block); err != nil || s.dec.Close() != nil {
		hc.lost()
		return
	}
	if s.blockPush || s.blockStream == 0 {
		return
	}
	sid, fields := s.blockStream, s.fields
	q := hc.streams[sid]
	switch {
	case client && q == nil:
		if len(hc.streams) >= maxH2Streams {
			return
		}
		m := h2Message(fields, true, hc.c.maxBody())
		m.start, m.end = s.blockStart, end
		q = &pair{req: m}
		hc.streams[sid] = q
		hc.c.pending = append(hc.c.pending, q)
	case client:
		// Request trailers: nothing the recording keeps.
	case q == nil:
		hc.c.im.stats.Orphans++
		return
	case q.resp == nil:
		m := h2Message(fields, false, hc.c.maxBody())
		if m.status < 200 {
			hc.c.im.stats.Interim++
			return
		}
		m.start, m.end = s.blockStart, end
		q.resp = m
	case q.respDone:
		return // nothing may follow the response's END_STREAM
	default:
		q.resp.trailer = h2Fields(fields)
		q.resp.end = end
	}
	if s.blockEnd {
		hc.endStream(client, sid, q)
	}
	hc.c.emitReady()
}

// h2Message makes the message of a header block.
func h2Message(fields []hpack.HeaderField, request bool, maxBody int) *message {
	m := &message{request: request, proto: "HTTP/2.0", maxBody: maxBody}
	authority := ""
	for _, f := range fields {
		switch f.Name {
		case ":method":
			m.method = f.Value
		case ":path":
			m.target = f.Value
		case ":authority":
			authority = f.Value
		case ":status":
			m.status = atoiStatus(f.Value)
		}
	}
	m.header = h2Fields(fields)
	if request && authority != "" && m.header.Get("Host") == "" {
		m.header = append(capture.Headers{{Name: "Host", Value: authority}}, m.header...)
	}
	if request && m.target == "" {
		m.target = "*"
	}
	return m
}

// h2Fields returns the regular fields of a block, without its pseudo-header
// fields.
func h2Fields(fields []hpack.HeaderField) capture.Headers {
	var h capture.Headers
	for _, f := range fields {
		if !strings.HasPrefix(f.Name, ":") {
			h = append(h, capture.Header{Name: f.Name, Value: f.Value})
		}
	}
	return h
}

// atoiStatus parses a three-digit status, 0 if it is not one.
func atoiStatus(s string) int {
	if len(s) != 3 {
		return 0
	}
	n := 0
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// endStream marks one direction of a stream ended; a stream both sides
// ended is forgotten (a server may answer before the request's end, so its
// end does not cut the request).
func (hc *h2conn) endStream(client bool, sid uint32, q *pair) {
	if client {
		q.reqDone = true
	} else if q.resp != nil {
		q.respDone = true
	}
	if q.reqDone && q.respDone {
		delete(hc.streams, sid)
	}
	hc.c.emitReady()
}

// reset ends a stream that either side reset: what it carried so far is
// its exchange.
func (hc *h2conn) reset(sid uint32, q *pair) {
	hc.c.im.h2Resets++
	if !q.reqDone {
		q.req.incomplete = true
		q.reqDone = true
	}
	if q.resp != nil {
		if !q.respDone {
			q.resp.incomplete = true
		}
		q.respDone = true
	} else {
		q.respLost = true
	}
	delete(hc.streams, sid)
	hc.c.emitReady()
}

// lost gives up on the connection's HTTP/2: what is under way is handed over
// incomplete at the end, and nothing more is read.
func (hc *h2conn) lost() {
	hc.c.im.stats.Skipped[SkipHTTP2Lost]++
	for sid, q := range hc.streams {
		if q.resp != nil && !q.respDone {
			q.resp.incomplete = true
		}
		delete(hc.streams, sid)
	}
	for i := range hc.c.halves {
		hc.c.halves[i].state = stDead
	}
}
