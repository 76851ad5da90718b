package proxy

import (
	"net/http"
	"strings"

	"github.com/ampload/amp/capture"
	"golang.org/x/net/http2/hpack"
)

// h2Heads recovers the request header fields of an HTTP/2 client connection
// in the order and case the client sent them, as wireConn does for HTTP/1:
// it reads the frames the server reads, decodes every request header block
// with HPACK (which must see them all, in order), and keeps the decoded
// heads until net/http hands over their requests. A head is only used when
// it matches what net/http parsed; anything it cannot follow turns it off,
// which costs field order, never correctness.
type h2Heads struct {
	preface int    // preface bytes still to skip
	buf     []byte // a frame not yet whole
	skip    int    // bytes of a DATA frame's payload still to skip
	dec     *hpack.Decoder
	fields  []hpack.HeaderField
	block   []byte // a header block awaiting its CONTINUATION frames
	open    bool
	heads   []capture.Headers // decoded heads, pseudo-header fields first, not yet claimed
	dead    bool
}

// Bounds of h2Heads.
const (
	maxH2Heads = 256     // heads kept unclaimed (older ones are dropped)
	maxH2Frame = 1 << 20 // the largest frame followed
)

func newH2Heads() *h2Heads {
	h := &h2Heads{preface: len(http2Preface)}
	h.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) { h.fields = append(h.fields, f) })
	h.dec.SetMaxStringLength(wireWindow)
	return h
}

// http2Preface is what an HTTP/2 client sends first.
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// feed reads the client's bytes.
func (h *h2Heads) feed(b []byte) {
	if h.dead {
		return
	}
	if h.preface > 0 {
		k := min(h.preface, len(b))
		h.preface -= k
		b = b[k:]
	}
	if h.skip > 0 {
		k := min(h.skip, len(b))
		h.skip -= k
		b = b[k:]
	}
	h.buf = append(h.buf, b...)
	for !h.dead && len(h.buf) >= 9 {
		n := int(uint32(h.buf[0])<<16 | uint32(h.buf[1])<<8 | uint32(h.buf[2]))
		if n > maxH2Frame {
			h.stop()
			return
		}
		if len(h.buf) < 9+n {
			if h.buf[3] == 0x0 && !h.open { // DATA: skip its payload as it comes, unbuffered
				h.skip = 9 + n - len(h.buf)
				h.buf = h.buf[:0]
			}
			return
		}
		h.frame(h.buf[3], h.buf[4], h.buf[9:9+n])
		if h.dead { // stop dropped the buffer
			return
		}
		h.buf = h.buf[:copy(h.buf, h.buf[9+n:])]
	}
}

// frame handles one frame of the client's: header blocks (HEADERS and
// CONTINUATION) and the table size it allows, the rest is skipped.
func (h *h2Heads) frame(typ, flags byte, p []byte) {
	const (
		headers, continuation        = 0x1, 0x9
		endHeaders, padded, priority = 0x4, 0x8, 0x20
	)
	switch {
	case h.open && typ != continuation:
		h.stop()
	case typ == headers:
		if flags&padded != 0 {
			if len(p) < 1 || int(p[0]) > len(p)-1 {
				h.stop()
				return
			}
			p = p[1 : len(p)-int(p[0])]
		}
		if flags&priority != 0 {
			if len(p) < 5 {
				h.stop()
				return
			}
			p = p[5:]
		}
		h.block, h.open = append(h.block[:0], p...), true
		if flags&endHeaders != 0 {
			h.endBlock()
		}
	case typ == continuation:
		if !h.open || len(h.block)+len(p) > wireWindow {
			h.stop()
			return
		}
		h.block = append(h.block, p...)
		if flags&endHeaders != 0 {
			h.endBlock()
		}
	}
}

// endBlock decodes a complete header block and keeps it as a head.
func (h *h2Heads) endBlock() {
	h.open = false
	h.fields = h.fields[:0]
	if _, err := h.dec.Write(h.block); err != nil || h.dec.Close() != nil {
		h.stop()
		return
	}
	head := make(capture.Headers, 0, len(h.fields))
	for _, f := range h.fields {
		head = append(head, capture.Header{Name: f.Name, Value: f.Value})
	}
	if len(h.heads) >= maxH2Heads {
		h.heads = h.heads[1:]
	}
	h.heads = append(h.heads, head)
}

func (h *h2Heads) stop() {
	h.dead, h.buf, h.block, h.heads = true, nil, nil, nil
}

// claim returns, and forgets, the head of r: the oldest whose method, path
// and fields match r's, as the client sent them, with Host (from
// :authority) first and the cookie crumbs HTTP/2 allows joined into one
// field, as net/http joins them.
func (h *h2Heads) claim(r *http.Request) (capture.Headers, bool) {
	for i, head := range h.heads {
		var method, path, authority string
		var fields capture.Headers
		cookie := -1
		for _, f := range head {
			switch {
			case f.Name == ":method":
				method = f.Value
			case f.Name == ":path":
				path = f.Value
			case f.Name == ":authority":
				authority = f.Value
			case strings.HasPrefix(f.Name, ":"):
			case f.Name == "cookie" && cookie >= 0:
				fields[cookie].Value += "; " + f.Value
			default:
				if f.Name == "cookie" {
					cookie = len(fields)
				}
				fields = append(fields, f)
			}
		}
		if method != r.Method || path != r.RequestURI || !sameFields(fields, r.Header) {
			continue
		}
		h.heads = append(h.heads[:i], h.heads[i+1:]...)
		if authority != "" && fields.Get("Host") == "" {
			fields = append(capture.Headers{{Name: "host", Value: authority}}, fields...)
		}
		return fields, true
	}
	return nil, false
}
