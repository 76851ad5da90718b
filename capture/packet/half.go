package packet

import (
	"bytes"
	"strconv"
	"strings"
)

// Limits of the parser. They bound the memory one connection can hold.
const (
	// maxHeaderBytes is the largest header block accepted; a bigger one is
	// taken as "not HTTP" (or as lost framing).
	maxHeaderBytes = 256 << 10
	// maxLineBytes bounds a chunk-size or trailer line.
	maxLineBytes = 8 << 10
	// maxScanWithoutHTTP is how far the parser searches a connection that has
	// shown no HTTP at all for a message start before giving up on it.
	maxScanWithoutHTTP = 1 << 20
	// maxHeld bounds the response bytes held back while their request has not
	// been seen yet.
	maxHeld = 8 << 20
)

// role is the side of the connection a half belongs to.
type role uint8

const (
	roleUnknown role = iota
	roleClient       // sends requests
	roleServer       // sends responses
)

// pstate is where a half's parser is.
type pstate uint8

const (
	stHeader     pstate = iota // between messages, or inside a header block (in buf)
	stBody                     // remain bytes of a Content-Length body
	stChunkSize                // a chunk-size line (partial line in buf)
	stChunkData                // remain bytes of chunk data
	stChunkEnd                 // the line end after chunk data
	stTrailer                  // trailer lines after the last chunk (partial line in buf)
	stUntilClose               // a response body that ends with the connection
	stLost                     // out of sync: looking for the next message start
	stDead                     // not HTTP, or the connection left HTTP: ignore the rest
	stWS                       // WebSocket frames after a 101 (ws.go)
	stH2                       // HTTP/2 frames (h2.go)
)

// clock tells which packet carried the byte at an offset of the data being
// fed.
type clock interface {
	at(off int) pktInfo
}

// constClock is a clock for data whose packets are no longer known.
type constClock pktInfo

func (c constClock) at(int) pktInfo { return pktInfo(c) }

// heldChunk is data (or a gap or the end) that arrived while the half held
// back a response whose request had not been parsed yet.
type heldChunk struct {
	data []byte
	info pktInfo
	pos  uint32
	gap  int
	end  bool
}

// half parses one direction of a TCP connection as a sequence of HTTP/1.x
// messages, synchronously, as the reassembler hands it bytes. It calls back
// into its connection when messages start and end.
type half struct {
	c    *conn
	role role
	// synced is set when the data starts at the beginning of the connection
	// (a SYN was seen), so the first bytes must be a message start.
	synced bool
	isn    uint32 // the sequence number of the SYN, when synced

	state  pstate
	msg    *message
	remain int64
	msgs   int // message starts parsed

	// livePos is the TCP sequence number of the next byte the reassembler
	// will deliver; pos that of the first byte of the data being fed.
	livePos, pos uint32
	posKnown     bool
	holes        []hole // byte ranges the capture cut off (snap length)

	buf      []byte  // partial header block or line
	scan     int     // where to resume looking for the end of buf's header block
	bufStart pktInfo // the packet that carried buf[0]
	bufPos   uint32  // its sequence number
	// lineStart is set when the next byte starts a line (after a gap, at the
	// start of the data, or after a '\n').
	lineStart bool
	scanned   int64 // bytes searched while lost
	// carry keeps the end of the data searched while lost (see lost), with
	// the packet and sequence number of its first byte.
	carry, scratch []byte
	carryInfo      pktInfo
	carryPos       uint32
	lastInfo       pktInfo
	ended          bool

	// lostMessages is set when a gap may have swallowed whole messages since
	// the last message start; pairing then checks TCP numbers.
	lostMessages bool
	resyncs      int // times the parser lost step

	holding   bool
	held      []heldChunk
	heldBytes int
}

// hole is a byte range [start, end) of TCP sequence space the capture cut off.
type hole struct{ start, end uint32 }

// seqLess reports whether sequence number a comes before b (modulo 2^32).
func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

// deliver feeds bytes the reassembler delivered at h.livePos, turning the
// ranges the capture cut off into gaps.
func (h *half) deliver(data []byte, clk clock) {
	base := 0
	for len(data) > 0 && len(h.holes) > 0 {
		ho := h.holes[0]
		start := h.livePos
		end := start + uint32(len(data))
		if !seqLess(start, ho.end) { // hole already behind us
			h.holes = h.holes[1:]
			continue
		}
		if !seqLess(ho.start, end) { // hole after this data
			break
		}
		if seqLess(start, ho.start) {
			n := int(ho.start - start)
			h.feedAt(data[:n], clk, base, start)
			data, base, h.livePos = data[n:], base+n, start+uint32(n)
			continue
		}
		n := min(int(ho.end-start), len(data))
		h.gap(n)
		data, base, h.livePos = data[n:], base+n, start+uint32(n)
	}
	if len(data) > 0 {
		h.feedAt(data, clk, base, h.livePos)
		h.livePos += uint32(len(data))
	}
}

// feedAt feeds data whose first byte has sequence number pos and whose
// offsets are base.. in clk.
func (h *half) feedAt(data []byte, clk clock, base int, pos uint32) {
	h.pos = pos
	if base == 0 {
		h.feed(data, clk) // the usual case: no boxing of an offsetClock
		return
	}
	h.feed(data, offsetClock{clk, base})
}

type offsetClock struct {
	c    clock
	base int
}

func (o offsetClock) at(off int) pktInfo { return o.c.at(o.base + off) }

// feed parses data, in stream order after what came before.
func (h *half) feed(data []byte, clk clock) {
	if h.holding {
		h.hold(data, clk.at(0), h.pos)
		return
	}
	off := 0
	for off < len(data) {
		var n int
		switch h.state {
		case stDead:
			return
		case stWS:
			h.c.wsFeed(h, data[off:], offsetClock{clk, off})
			return
		case stHeader:
			n = h.header(data[off:], clk, off)
		case stBody, stChunkData, stUntilClose:
			n = h.bodyBytes(data[off:], clk, off)
		case stChunkSize, stTrailer:
			n = h.line(data[off:], clk, off)
		case stChunkEnd:
			n = h.chunkEnd(data[off:], clk, off)
		case stLost:
			n = h.lost(data[off:], clk, off)
		case stH2:
			n = h.c.h2.feed(h, data[off:], clk, off)
		}
		if n > 0 {
			h.lineStart = data[off+n-1] == '\n'
		}
		off += n
		if h.holding {
			if off < len(data) {
				h.hold(data[off:], clk.at(off), h.pos+uint32(off))
			}
			return
		}
	}
}

// header handles bytes between messages and inside a header block.
func (h *half) header(data []byte, clk clock, off int) int {
	if len(h.buf) == 0 {
		i := 0
		for i < len(data) && (data[i] == '\r' || data[i] == '\n') {
			i++
		}
		if i == len(data) {
			return i
		}
		d := data[i:]
		if h.isH2Start(d) {
			h.enterH2()
			return i
		}
		if h.awaitsPreface() {
			h.hold(d, clk.at(off+i), h.pos+uint32(off+i))
			return len(data)
		}
		if end := headerEnd(d, 0); end >= 0 && end <= maxHeaderBytes {
			start := clk.at(off + i)
			n := h.block(d[:end], start, h.pos+uint32(off+i), clk.at(off+i+end-1), end)
			switch {
			case n < 0:
				h.hold(d, start, h.pos+uint32(off+i))
				return len(data) // held, with everything after it
			case n == 0:
				return i + 1 // not a message: look again from the next byte
			}
			return i + n
		}
		switch k := classifyStart(d); {
		case k == startNone || len(d) > maxHeaderBytes:
			h.notMessage(d)
			return i + 1
		}
		h.buf = append(h.buf[:0], d...)
		h.scan = max(0, len(d)-3)
		h.bufStart, h.bufPos = clk.at(off+i), h.pos+uint32(off+i)
		h.lastInfo = clk.at(off + len(data) - 1)
		return len(data)
	}
	old := len(h.buf)
	h.buf = append(h.buf, data...)
	if h.isH2Start(h.buf) { // a preface split across deliveries
		buf := h.buf
		h.buf = h.buf[:0]
		h.enterH2()
		h.c.h2.feed(h, buf, constClock(h.bufStart), 0)
		return len(data)
	}
	end := headerEnd(h.buf, h.scan)
	if end < 0 || end > maxHeaderBytes {
		if classifyStart(h.buf) == startNone || len(h.buf) > maxHeaderBytes {
			h.buf = h.buf[:0]
			h.enterLost()
			h.lineStart = false
			return 0 // look at data again, now for a message start
		}
		h.scan = max(0, len(h.buf)-3)
		if len(data) > 0 {
			h.lastInfo = clk.at(off + len(data) - 1)
		}
		return len(data)
	}
	used := max(end-old, 0)
	buf := h.buf
	h.buf = h.buf[:0] // block() may restart buf; buf keeps the bytes alive
	n := h.block(buf[:end], h.bufStart, h.bufPos, clk.at(off+max(used-1, 0)), end)
	if n < 0 {
		h.hold(buf, h.bufStart, h.bufPos)
		return len(data) // held: buf (block and the rest) was kept
	}
	if n == 0 {
		return 0 // buf is dropped: look at data again
	}
	return used
}

// block handles a complete header block whose first byte came in packet
// start at sequence number pos and whose last byte came in last. It returns
// how many bytes of the block it used: size, 0 when the block was not a
// message (the state changed to lost or dead), or -1 when the response must
// wait for its request: the caller holds the block and what follows it.
func (h *half) block(block []byte, start pktInfo, pos uint32, last pktInfo, size int) int {
	m := parseHead(block, h.c.maxBody())
	if m == nil || m.request && h.role == roleServer || !m.request && h.role == roleClient {
		h.notMessage(block)
		return 0
	}
	m.start, m.end, m.startPos, m.posKnown = start, last, pos, h.posKnown
	if h.role == roleUnknown {
		if m.request {
			h.c.setRole(h, roleClient)
		} else {
			h.c.setRole(h, roleServer)
		}
	}
	if m.request {
		h.msgs++
		h.lostMessages = false
		h.c.gotRequest(h, m)
		kind, n := requestBody(m)
		if kind == bodyBad {
			m.incomplete = true
			h.c.requestDone(m)
			h.enterLost()
			return size
		}
		h.startBody(m, kind, n)
		return size
	}
	method, ok := h.c.gotResponse(h, m)
	if !ok {
		return -1
	}
	h.msgs++
	h.lostMessages = false
	kind, n := responseBody(m, method)
	switch kind {
	case bodyTunnel:
		if m.status == 101 && strings.EqualFold(strings.TrimSpace(m.header.Get("Upgrade")), "h2c") {
			h.upgradeH2(m)
			return size
		}
		ws := h.c.startWS(m) // before responseDone, which would hand the exchange over
		h.c.responseDone(m)
		if !ws {
			h.c.leaveHTTP()
		}
	case bodyBad:
		m.incomplete = true
		h.c.responseDone(m)
		h.enterLost()
	default:
		h.startBody(m, kind, n)
	}
	return size
}

// startBody sets the parser up for the body of m.
func (h *half) startBody(m *message, kind bodyKind, n int64) {
	h.msg = m
	switch kind {
	case bodyNone:
		h.done()
	case bodyLength:
		if cap(m.body) == 0 {
			m.body = make([]byte, 0, min(n, int64(m.maxBody)))
		}
		h.state, h.remain = stBody, n
	case bodyChunked:
		h.state = stChunkSize
	case bodyUntilClose:
		h.state = stUntilClose
	}
}

// done completes the current message.
func (h *half) done() {
	m := h.msg
	h.msg = nil
	h.state = stHeader
	if m == nil {
		return
	}
	if m.request {
		h.c.requestDone(m)
	} else {
		h.c.responseDone(m)
	}
}

// bodyBytes consumes body or chunk data.
func (h *half) bodyBytes(data []byte, clk clock, off int) int {
	n := len(data)
	if h.state != stUntilClose {
		n = int(min(int64(n), h.remain))
		h.remain -= int64(n)
	}
	h.msg.addBody(data[:n])
	if n > 0 && (h.state == stUntilClose || h.remain == 0) {
		h.msg.end = clk.at(off + n - 1)
	}
	if h.state != stUntilClose && h.remain == 0 {
		if h.state == stBody {
			h.done()
		} else {
			h.state = stChunkEnd
		}
	}
	return n
}

// chunkEnd consumes the line end after chunk data.
func (h *half) chunkEnd(data []byte, _ clock, _ int) int {
	switch data[0] {
	case '\r':
		return 1
	case '\n':
		h.state = stChunkSize
		return 1
	}
	h.framingLost()
	return 0
}

// line collects a chunk-size or trailer line and acts on it.
func (h *half) line(data []byte, clk clock, off int) int {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		if len(h.buf)+len(data) > maxLineBytes {
			h.buf = h.buf[:0]
			h.framingLost()
			return 0
		}
		h.buf = append(h.buf, data...)
		return len(data)
	}
	line := data[:i]
	if len(h.buf) > 0 {
		h.buf = append(h.buf, line...)
		line = h.buf
	}
	used := i + 1
	if h.state == stTrailer {
		if len(bytes.TrimSuffix(line, []byte{'\r'})) == 0 {
			h.buf = h.buf[:0]
			h.msg.end = clk.at(off + i)
			h.done()
			return used
		}
		h.buf = h.buf[:0]
		return used // trailer fields are not kept
	}
	size, ok := parseChunkSize(line)
	h.buf = h.buf[:0]
	if !ok {
		h.framingLost()
		return used
	}
	if size == 0 {
		h.state = stTrailer
	} else {
		h.state, h.remain = stChunkData, size
	}
	return used
}

// framingLost ends the current message as incomplete when its framing cannot
// be followed (a bad chunk line), and looks for the next message.
func (h *half) framingLost() {
	if h.msg != nil {
		h.msg.incomplete = true
		h.done()
	}
	h.enterLost()
}

// enterLost starts looking for the next message start.
func (h *half) enterLost() {
	h.resyncs++
	h.state = stLost
	h.buf = h.buf[:0]
	h.carry = h.carry[:0]
}

// notMessage handles bytes where a message should start but none does. On a
// half whose first bytes are the connection's first, that means the
// connection does not speak HTTP; otherwise the parser resynchronises.
func (h *half) notMessage(b []byte) {
	if h.synced && h.msgs == 0 && !h.c.httpSeen {
		h.c.notHTTP(b)
		return
	}
	h.enterLost()
	h.lineStart = false
}

// carryBytes is how much of the data seen while lost is kept, so that a
// message start split across two deliveries is still found.
const carryBytes = 4 << 10

// lost searches for the next message start, in what it carried over from
// the previous data and the new data.
func (h *half) lost(data []byte, clk clock, off int) int {
	win, nc := data, len(h.carry)
	if nc > 0 {
		h.scratch = append(append(h.scratch[:0], h.carry...), data...)
		win = h.scratch
	}
	s := findStart(win, h.role, h.lineStart && nc == 0)
	if s < 0 {
		h.scanned += int64(len(data))
		if !h.c.httpSeen && h.scanned > maxScanWithoutHTTP {
			h.c.notHTTP(nil)
			return len(data)
		}
		keep := min(len(win), carryBytes)
		from := len(win) - keep // index in win of the first byte kept
		if from >= nc {
			h.carryInfo = clk.at(off + from - nc)
			h.carryPos = h.pos + uint32(off+from-nc)
		} else {
			h.carryPos += uint32(from)
		}
		h.carry = append(h.carry[:0], win[from:]...)
		return len(data)
	}
	h.carry = h.carry[:0]
	h.state = stHeader
	if s < nc {
		// The message starts in the carried bytes: they go to the header
		// buffer, and the new data follows them there.
		h.buf = append(h.buf[:0], win[s:nc]...)
		h.scan = 0
		h.bufStart, h.bufPos = h.carryInfo, h.carryPos+uint32(s)
		return 0
	}
	return s - nc
}

// findStart returns the offset in b of the first HTTP/1.x start line that a
// half of role r may send, or -1. It finds status lines anywhere and request
// lines by their protocol version, so a message that follows a body without
// a line end is found too. Offset 0 is tried first when lineStart is set.
func findStart(b []byte, r role, lineStart bool) int {
	if lineStart {
		switch classifyStart(b) {
		case startRequest:
			if r != roleServer {
				return 0
			}
		case startResponse:
			if r != roleClient {
				return 0
			}
		}
	}
	for off := 0; off < len(b); {
		j := bytes.Index(b[off:], []byte("HTTP/1."))
		if j < 0 {
			return -1
		}
		j += off
		if r != roleClient && classifyStart(b[j:]) == startResponse {
			return j
		}
		if r != roleServer {
			if s := requestStartBefore(b, j); s >= 0 {
				return s
			}
		}
		off = j + 1
	}
	return -1
}

// resyncMethods are the methods recognised after garbage without a line end.
var resyncMethods = [...]string{"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "PROPFIND", "PROPPATCH",
	"MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "TRACE", "CONNECT"}

// requestStartBefore returns where the request line whose protocol version
// starts at b[j] begins, or -1 if there is none.
func requestStartBefore(b []byte, j int) int {
	if j < 4 || b[j-1] != ' ' {
		return -1
	}
	sp := bytes.LastIndexByte(b[:j-1], ' ')
	if sp < 1 || bytes.IndexByte(b[sp+1:j-1], '\n') >= 0 {
		return -1
	}
	m := sp
	for m > 0 && isMethodChar(b[m-1]) && sp-m < maxMethodLen {
		m--
	}
	if m == sp || classifyStart(b[m:]) != startRequest {
		return -1
	}
	if m > 0 && b[m-1] != '\n' {
		// Not at a line start: the token may have body bytes before the
		// method.
		for _, known := range resyncMethods {
			if bytes.HasSuffix(b[m:sp], []byte(known)) {
				return sp - len(known)
			}
		}
	}
	return m
}

// gap handles n bytes missing from the capture at the current position.
func (h *half) gap(n int) {
	if n <= 0 {
		return
	}
	if h.holding {
		h.held = append(h.held, heldChunk{gap: n})
		return
	}
	h.lineStart = true
	switch h.state {
	case stDead:
		return
	case stWS:
		h.c.wsGap(h)
		return
	case stH2:
		h.c.h2.lost()
		return
	case stBody, stChunkData:
		if int64(n) <= h.remain {
			h.msg.skipBody(int64(n))
			h.remain -= int64(n)
			if h.remain > 0 {
				return
			}
			if h.state == stChunkData {
				h.state = stChunkEnd
				return
			}
			h.done()
			return // still in step: the gap ended with the message
		}
		h.msg.skipBody(h.remain)
		h.framingLost()
	case stUntilClose:
		h.msg.skipBody(int64(n))
		return
	case stHeader:
		if len(h.buf) > 0 {
			if !h.salvage() {
				if h.holding {
					h.held = append(h.held, heldChunk{gap: n})
				}
				return
			}
		}
		h.enterLost()
	case stLost:
	default:
		h.framingLost()
	}
	h.lostMessages = true
}

// salvage turns a header block cut by a gap or the end of the data into an
// incomplete message when its start line can be read. It returns false when
// the message is a response that must wait for its request (it was held).
func (h *half) salvage() bool {
	buf := h.buf
	m := salvageHead(buf, h.c.maxBody())
	if m == nil || m.request && h.role == roleServer || !m.request && h.role == roleClient {
		h.buf = h.buf[:0]
		return true
	}
	m.start, m.end, m.startPos, m.posKnown = h.bufStart, h.lastInfo, h.bufPos, h.posKnown
	m.incomplete = true
	if h.role == roleUnknown {
		if m.request {
			h.c.setRole(h, roleClient)
		} else {
			h.c.setRole(h, roleServer)
		}
	}
	if m.request {
		h.buf = h.buf[:0]
		h.msgs++
		h.c.gotRequest(h, m)
		h.c.requestDone(m)
		return true
	}
	if _, ok := h.c.gotResponse(h, m); !ok {
		kept := append([]byte(nil), buf...)
		h.buf = h.buf[:0]
		h.hold(kept, h.bufStart, h.bufPos)
		return false
	}
	h.buf = h.buf[:0]
	h.msgs++
	h.c.responseDone(m)
	return true
}

// salvageHead reads what it can of a partial header block: a start line
// complete at least up to the request-target (or the status code) and the
// complete field lines.
func salvageHead(b []byte, maxBody int) *message {
	nl := bytes.IndexByte(b, '\n')
	if nl >= 0 {
		if m := parseHead(append(b[:nl+1:nl+1], '\n'), maxBody); m != nil {
			m.header = parseFields(string(b[nl+1:]), m.header)
			// The last field line may be cut: drop it unless it ended.
			if !bytes.HasSuffix(b, []byte{'\n'}) && len(m.header) > 0 {
				m.header = m.header[:len(m.header)-1]
			}
			m.size = -1
			return m
		}
		return nil
	}
	if classifyStart(b) != startMore {
		return nil
	}
	s := string(b)
	if strings.HasPrefix(s, "HTTP/1.") {
		if len(s) < 12 {
			return nil
		}
		status, err := strconv.Atoi(s[9:12])
		if err != nil {
			return nil
		}
		return &message{maxBody: maxBody, proto: s[:8], status: status, size: -1}
	}
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return nil
	}
	sp2 := strings.IndexByte(s[sp+1:], ' ')
	if sp2 <= 0 {
		return nil
	}
	return &message{request: true, maxBody: maxBody, method: s[:sp], target: s[sp+1 : sp+1+sp2], size: -1}
}

// end handles the end of this direction (FIN, RST, or the end of the capture).
func (h *half) end() {
	if h.holding {
		h.held = append(h.held, heldChunk{end: true})
		return
	}
	if h.ended {
		return
	}
	h.ended = true
	switch h.state {
	case stUntilClose:
		h.done() // the normal end of such a body
	case stHeader:
		if len(h.buf) > 0 && !h.salvage() && h.holding {
			h.held = append(h.held, heldChunk{end: true})
			h.ended = false
			return
		}
	case stBody, stChunkSize, stChunkData, stChunkEnd, stTrailer:
		if h.msg != nil {
			h.msg.incomplete = true
			h.done()
		}
	}
	if h.state != stDead && h.state != stWS {
		h.state = stLost
	}
}

// hold keeps data back until the request it answers has been parsed.
func (h *half) hold(data []byte, info pktInfo, pos uint32) {
	h.holding = true
	if len(data) == 0 {
		return
	}
	h.held = append(h.held, heldChunk{data: append([]byte(nil), data...), info: info, pos: pos})
	h.heldBytes += len(data)
	if h.heldBytes > maxHeld {
		// Too much to keep: the request is not coming (or very late). Drop
		// the data and look for the next message start.
		h.held, h.heldBytes, h.holding = nil, 0, false
		h.c.im.stats.Orphans++
		h.enterLost()
		h.lostMessages = true
	}
}

// resume parses held data again, now that a request may be waiting.
func (h *half) resume() {
	if !h.holding {
		return
	}
	chunks := h.held
	h.held, h.heldBytes, h.holding = nil, 0, false
	for i, ch := range chunks {
		if h.holding {
			h.held = append(h.held, chunks[i:]...)
			for _, c := range h.held {
				h.heldBytes += len(c.data)
			}
			return
		}
		switch {
		case ch.end:
			h.end()
		case ch.gap > 0:
			h.gap(ch.gap)
		default:
			h.pos = ch.pos
			h.feed(ch.data, constClock(ch.info))
		}
	}
}
