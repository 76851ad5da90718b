package packet

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/ampload/amp/capture"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/reassembly"
)

// maxPending bounds the requests a connection keeps waiting for responses.
const maxPending = 4096

// pair is a request with the response that answers it, as far as seen.
type pair struct {
	req, resp         *message
	reqDone, respDone bool
	// respLost: a gap in the capture swallowed the response.
	respLost bool
}

// conn is one TCP connection: both directions, parsed synchronously in the
// assembler's goroutine, with the requests waiting for their responses in
// order (HTTP/1.1 answers pipelined requests in order). It implements
// reassembly.Stream.
type conn struct {
	im *Importer
	// halves[0] is the direction of the first packet seen (the reassembler's
	// TCPDirClientToServer), whichever side that is.
	halves [2]half
	net    gopacket.Flow // addresses of the first packet, source first
	tcp    gopacket.Flow // ports of the first packet

	pending  []*pair
	httpSeen bool
	dead     bool
	final    bool
	counted  bool // counted as a TCP stream
	upgraded bool
	h2       *h2conn // the connection speaks HTTP/2 (h2.go)
	ws       *wsConv // the WebSocket conversation after a 101 (ws.go)
	first    []byte  // the first payload bytes, to say why a stream is skipped
	reason   string  // why the connection is not HTTP, once known

	client string // cached "ip:port" of the client
}

func newConn(im *Importer, netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP) *conn {
	c := &conn{im: im, net: netFlow, tcp: tcpFlow}
	for i := range c.halves {
		c.halves[i].c = c
		c.halves[i].lineStart = true
	}
	switch {
	case tcp.SYN && !tcp.ACK:
		c.setRole(&c.halves[0], roleClient)
	case tcp.SYN && tcp.ACK:
		c.setRole(&c.halves[0], roleServer)
	case len(im.ports) > 0:
		// With --port the server is the side on one of those ports.
		if im.portWanted(uint16(tcp.DstPort)) {
			c.setRole(&c.halves[0], roleClient)
		} else if im.portWanted(uint16(tcp.SrcPort)) {
			c.setRole(&c.halves[0], roleServer)
		}
	}
	return c
}

func (c *conn) maxBody() int { return c.im.cfg.MaxBody }

func (c *conn) halfOf(dir reassembly.TCPFlowDirection) *half {
	if dir == reassembly.TCPDirClientToServer {
		return &c.halves[0]
	}
	return &c.halves[1]
}

func (c *conn) other(h *half) *half {
	if h == &c.halves[0] {
		return &c.halves[1]
	}
	return &c.halves[0]
}

// setRole fixes the role of h, and the opposite one of the other half.
func (c *conn) setRole(h *half, r role) {
	h.role = r
	if r == roleClient {
		c.other(h).role = roleServer
	} else {
		c.other(h).role = roleClient
	}
}

func (c *conn) clientHalf() *half {
	if c.halves[1].role == roleClient {
		return &c.halves[1]
	}
	return &c.halves[0]
}

func (c *conn) serverHalf() *half { return c.other(c.clientHalf()) }

// Accept implements reassembly.Stream: it takes every packet of a connection
// still parsed, and starts a half at its first packet when the SYN was not
// captured.
func (c *conn) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	if c.dead {
		return false
	}
	h := c.halfOf(dir)
	if tcp.SYN && !tcp.ACK && h.posKnown && (!h.synced || h.ended || tcp.Seq != h.isn) {
		// A new connection on the same addresses and ports, while this one
		// is still held: finish this one, and let the importer start the new
		// one apart.
		c.finish()
		c.dead = true
		c.im.reused = true
		return false
	}
	if !c.counted && (tcp.SYN || len(tcp.Payload) > 0) {
		c.counted = true
		c.im.stats.Streams++
	}
	if len(c.first) == 0 && len(tcp.Payload) > 0 {
		c.first = append([]byte(nil), tcp.Payload[:min(len(tcp.Payload), 16)]...)
	}
	if nextSeq == -1 && !h.posKnown {
		h.posKnown = true
		if tcp.SYN {
			h.livePos = tcp.Seq + 1
			h.isn = tcp.Seq
			h.synced = true
		} else {
			// The capture starts in the middle of this connection: take the
			// data from here and find the next message start in it.
			*start = true
			h.livePos = tcp.Seq
			h.state = stLost
		}
	}
	if pc, ok := ac.(*pktCtx); ok && pc.missing > 0 {
		s := tcp.Seq + uint32(pc.captured)
		h.holes = append(h.holes, hole{start: s, end: s + uint32(pc.missing)})
	}
	return true
}

// ReassembledSG implements reassembly.Stream: it parses the new bytes of one
// direction.
func (c *conn) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	if c.dead {
		return
	}
	dir, _, end, skip := sg.Info()
	h := c.halfOf(dir)
	if skip > 0 {
		h.gap(skip)
		h.livePos += uint32(skip)
	}
	if n, _ := sg.Lengths(); n > 0 && !c.dead {
		clk := &c.im.sgClock // one per importer: streams are fed one at a time
		*clk = sgClock{sg: sg}
		h.deliver(sg.Fetch(n), clk)
	}
	if end && !c.dead {
		h.end()
	}
	c.emitReady()
}

// ReassemblyComplete implements reassembly.Stream: both directions have
// ended (FIN, RST, an idle timeout or the end of the capture).
func (c *conn) ReassemblyComplete(reassembly.AssemblerContext) bool {
	c.finish()
	return true
}

// finish flushes what the connection still holds: cut messages, held
// responses, requests without response.
func (c *conn) finish() {
	if c.final {
		return
	}
	c.final = true
	if !c.dead {
		ch := c.clientHalf()
		sh := c.other(ch)
		ch.end()
		sh.resume()
		sh.end()
		sh.resume()
	}
	c.emitReady()
	switch {
	case c.httpSeen:
		c.im.stats.HTTPStreams++
	case len(c.first) > 0:
		reason := c.reason
		if reason == "" {
			reason = classifyPayload(c.first, c.halves[0].synced || c.halves[1].synced)
		}
		c.im.stats.Skipped[reason]++
	}
}

// Skip reasons reported in Stats.Skipped.
const (
	SkipTLS       = "tls"        // TLS (HTTPS): encrypted, use amp record instead
	SkipHTTP2     = "http2"      // an HTTP/2 preface the importer could not follow
	SkipHTTP2Lost = "http2-gap"  // HTTP/2 left after a gap lost its HPACK state (what came before is imported)
	SkipNotHTTP   = "not-http"   // another protocol
	SkipMidStream = "mid-stream" // no SYN and no message start found
)

// classifyPayload says why a connection starting with b is not HTTP.
func classifyPayload(b []byte, synced bool) string {
	switch {
	case len(b) >= 3 && b[0] >= 0x14 && b[0] <= 0x17 && b[1] == 3 && b[2] <= 4:
		return SkipTLS
	case len(b) >= 3 && b[0]&0x80 != 0 && b[2] == 1: // SSLv2-style ClientHello
		return SkipTLS
	case bytes.HasPrefix(b, []byte("PRI * HTTP/2")):
		return SkipHTTP2
	case !synced:
		return SkipMidStream
	}
	return SkipNotHTTP
}

// notHTTP gives up on the connection: its first bytes are not HTTP.
func (c *conn) notHTTP(b []byte) {
	c.dead = true
	for i := range c.halves {
		c.halves[i].state = stDead
		c.halves[i].buf = nil
		c.halves[i].held = nil
		c.halves[i].holding = false
	}
	if len(b) > 0 {
		c.reason = classifyPayload(b, true)
	}
}

// leaveHTTP stops parsing after a 101 Switching Protocols or a CONNECT: what
// follows is another protocol.
func (c *conn) leaveHTTP() {
	c.upgraded = true
	for i := range c.halves {
		c.halves[i].state = stDead
	}
}

// gotRequest queues a request whose header block has been parsed.
func (c *conn) gotRequest(_ *half, m *message) {
	c.httpSeen = true
	if len(c.pending) >= maxPending {
		p := c.pending[0]
		c.pending = c.pending[1:]
		p.reqDone = true
		c.emit(p)
	}
	c.pending = append(c.pending, &pair{req: m})
	if sh := c.serverHalf(); sh.holding {
		sh.resume()
	}
}

// requestDone marks a request complete.
func (c *conn) requestDone(m *message) {
	for _, p := range c.pending {
		if p.req == m {
			p.reqDone = true
			break
		}
	}
	c.emitReady()
}

// gotResponse decides which request the response m answers and returns its
// method (the body of a response to HEAD is empty). ok is false when no
// request is waiting yet: the response must be held until one is parsed.
func (c *conn) gotResponse(h *half, m *message) (method string, ok bool) {
	c.httpSeen = true
	if m.status < 200 && m.status != 101 {
		m.interim = true
		c.im.stats.Interim++
		return "", true
	}
	i := 0
	for i < len(c.pending) && (c.pending[i].resp != nil || c.pending[i].respLost) {
		i++
	}
	if i == len(c.pending) {
		if !c.final {
			return "", false
		}
		m.orphan = true
		c.im.stats.Orphans++
		return "", true
	}
	if h.lostMessages {
		// Responses were lost in a gap: skip the requests they answered.
		j := c.answered(i, m)
		for ; i < j; i++ {
			c.pending[i].respLost = true
		}
	}
	req := c.pending[i].req
	if m.start.hasAck && req.posKnown && m.posKnown && !seqLess(req.startPos, m.start.ack) {
		// The server had not received this request when it sent the
		// response: it answers an earlier request the capture lacks.
		m.orphan = true
		c.im.stats.Orphans++
		return "", true
	}
	c.pending[i].resp = m
	return req.method, true
}

// answered picks the request, from pending[i] on, that response m answers
// after a gap in the server's data. A client sends a request (outside
// pipelining) after it has the previous response, so the request's
// acknowledgement number is where its response can start: the answer is the
// latest request whose acknowledgement is not after the response's first
// byte (the earliest of requests sent with the same one, which were
// pipelined). Requests the server had not received cannot be answered.
func (c *conn) answered(i int, m *message) int {
	if !m.posKnown {
		return i
	}
	best := i
	for j := i; j < len(c.pending); j++ {
		r := c.pending[j].req
		if !r.start.hasAck || seqLess(m.startPos, r.start.ack) {
			break
		}
		if m.start.hasAck && r.posKnown && !seqLess(r.startPos, m.start.ack) {
			break
		}
		if j == i || r.start.ack != c.pending[j-1].req.start.ack {
			best = j
		}
	}
	return best
}

// responseDone marks a response complete.
func (c *conn) responseDone(m *message) {
	if m.interim || m.orphan {
		return
	}
	for _, p := range c.pending {
		if p.resp == m {
			p.respDone = true
			break
		}
	}
	c.emitReady()
}

// emitReady hands over the exchanges at the head of the queue that are done.
// At the end of the connection everything left goes out.
func (c *conn) emitReady() {
	for len(c.pending) > 0 {
		p := c.pending[0]
		if !c.final {
			if c.ws != nil && p.resp == c.ws.resp {
				return // the conversation goes on: handed over at the end
			}
			if !p.reqDone || p.resp != nil && !p.respDone || p.resp == nil && !p.respLost {
				return
			}
		}
		c.pending[0] = nil
		c.pending = c.pending[1:]
		c.emit(p)
	}
}

// emit builds the exchange of p and hands it to the importer.
func (c *conn) emit(p *pair) {
	req := p.req
	if !p.reqDone {
		req.incomplete = true
	}
	e := &capture.Exchange{
		Client: c.clientAddr(),
		Start:  req.start.ts,
		Request: capture.Request{
			Method:   req.method,
			URL:      c.url(req),
			Proto:    req.proto,
			Header:   req.header,
			Body:     req.body,
			BodySize: req.size,
		},
	}
	if req.truncated {
		e.Flags |= capture.FlagRequestTruncated
	}
	if req.incomplete {
		e.Flags |= capture.FlagIncomplete
	}
	if r := p.resp; r != nil {
		if !p.respDone {
			r.incomplete = true
		}
		e.Response = capture.Response{
			Status:   r.status,
			Proto:    r.proto,
			Header:   r.header,
			Body:     r.body,
			BodySize: r.size,
			BodyHash: r.bodyHash(),
			Trailer:  r.trailer,
		}
		e.TTFB = max(r.start.ts.Sub(req.start.ts), 0)
		e.Duration = max(r.end.ts.Sub(req.start.ts), e.TTFB)
		c.wsExchange(e, r)
		if r.truncated {
			e.Flags |= capture.FlagResponseTruncated
		}
		if r.incomplete {
			e.Flags |= capture.FlagIncomplete
		}
	} else {
		e.Response.BodySize = -1
		e.Flags |= capture.FlagNoResponse
		if p.respLost {
			e.Flags |= capture.FlagIncomplete
		}
		e.Duration = max(req.end.ts.Sub(req.start.ts), 0)
	}
	c.im.deliver(e)
}

// clientAddr returns the client's "ip:port".
func (c *conn) clientAddr() string {
	if c.client == "" {
		i := 0
		if c.halves[1].role == roleClient {
			i = 1
		}
		c.client = endpointString(c.net, c.tcp, i == 0)
	}
	return c.client
}

// endpointString formats the source (src) or destination of the first packet.
func endpointString(netFlow, tcpFlow gopacket.Flow, src bool) string {
	a, p := netFlow.Dst(), tcpFlow.Dst()
	if src {
		a, p = netFlow.Src(), tcpFlow.Src()
	}
	addr, _ := netip.AddrFromSlice(a.Raw())
	port := uint16(0)
	if raw := p.Raw(); len(raw) == 2 {
		port = binary.BigEndian.Uint16(raw)
	}
	return netip.AddrPortFrom(addr, port).String()
}

// url returns the absolute URL of request m: the request-target as sent when
// absolute, else built from the Host field (or the server's address).
func (c *conn) url(m *message) string {
	t := m.target
	if hasScheme(t) {
		return t
	}
	host := strings.TrimSpace(m.header.Get("Host"))
	if host == "" {
		client := c.clientHalf() == &c.halves[0]
		server := endpointString(c.net, c.tcp, !client)
		ap, err := netip.ParseAddrPort(server)
		host = server
		if err == nil && ap.Port() == 80 {
			host = ap.Addr().String()
			if ap.Addr().Is6() {
				host = "[" + host + "]"
			}
		}
	}
	switch {
	case strings.HasPrefix(t, "/"):
		return "http://" + host + t
	case t == "*":
		return "http://" + host
	case m.method == "CONNECT":
		return "http://" + t
	}
	return "http://" + host + "/" + t
}

// hasScheme reports whether a request-target is in absolute form.
func hasScheme(t string) bool {
	i := strings.Index(t, "://")
	if i <= 0 {
		return false
	}
	for _, r := range t[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// pktCtx is the reassembly context of one packet: its capture info with the
// TCP acknowledgement number and snap-length truncation. The capture info's
// AncillaryData points back at it, so that a ScatterGather's CaptureInfo
// leads to it for any byte.
type pktCtx struct {
	ci       gopacket.CaptureInfo
	ack      uint32
	hasAck   bool
	captured int // payload bytes captured
	missing  int // payload bytes cut off by the snap length
	self     [1]any
}

// GetCaptureInfo implements reassembly.AssemblerContext.
func (p *pktCtx) GetCaptureInfo() gopacket.CaptureInfo { return p.ci }

// sgClock finds the packet of a byte of a ScatterGather.
type sgClock struct {
	sg   reassembly.ScatterGather
	last pktInfo
}

// at returns the packet that carried byte off. gopacket's reassembly only
// keeps the context on the first page of a packet that was queued out of
// order, and panics on the others (gopacket#483); then the previous answer
// stands.
func (s *sgClock) at(off int) (info pktInfo) {
	defer func() {
		if recover() != nil {
			info = s.last
		}
	}()
	ci := s.sg.CaptureInfo(off)
	if len(ci.AncillaryData) > 0 {
		if pc, ok := ci.AncillaryData[0].(*pktCtx); ok {
			s.last = pktInfo{ts: pc.ci.Timestamp, ack: pc.ack, hasAck: pc.hasAck}
			return s.last
		}
	}
	if !ci.Timestamp.IsZero() {
		s.last = pktInfo{ts: ci.Timestamp}
	}
	return s.last
}
