package wsframe

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Opcodes of RFC 6455, section 5.2.
const (
	OpContinuation = 0
	OpText         = 1
	OpBinary       = 2
	OpClose        = 8
	OpPing         = 9
	OpPong         = 10
)

// DefaultMaxMessage is the largest message a Reader joins, in bytes, unless
// Reader.MaxMessage says otherwise.
const DefaultMaxMessage = 64 << 20

// Header is a frame's header.
type Header struct {
	Fin    bool
	RSV1   bool // set on the first frame of a compressed message (permessage-deflate)
	Opcode byte
	Masked bool
	Mask   [4]byte
	Length int64 // payload length
}

// ErrShort is returned by ParseHeader when b does not hold a whole header.
var ErrShort = errors.New("wsframe: short header")

// ParseHeader reads the frame header at the start of b and returns it with
// its size in bytes. It returns ErrShort when b holds only part of it, and
// another error for a header no endpoint may send.
func ParseHeader(b []byte) (Header, int, error) {
	if len(b) < 2 {
		return Header{}, 0, ErrShort
	}
	h := Header{Fin: b[0]&0x80 != 0, RSV1: b[0]&0x40 != 0, Opcode: b[0] & 0x0f, Masked: b[1]&0x80 != 0}
	if b[0]&0x30 != 0 {
		return h, 0, errors.New("wsframe: reserved bits RSV2/RSV3 set")
	}
	if h.Opcode > OpBinary && h.Opcode < OpClose || h.Opcode > OpPong {
		return h, 0, fmt.Errorf("wsframe: reserved opcode %d", h.Opcode)
	}
	n := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, 0, ErrShort
		}
		h.Length, n = int64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return h, 0, ErrShort
		}
		v := binary.BigEndian.Uint64(b[2:])
		if v>>63 != 0 {
			return h, 0, errors.New("wsframe: payload length with the top bit set")
		}
		h.Length, n = int64(v), 10
	default:
		h.Length = int64(l)
	}
	if h.Opcode >= OpClose && (!h.Fin || h.Length > 125) {
		return h, 0, fmt.Errorf("wsframe: control frame (opcode %d) fragmented or longer than 125 bytes", h.Opcode)
	}
	if h.Masked {
		if len(b) < n+4 {
			return h, 0, ErrShort
		}
		copy(h.Mask[:], b[n:n+4])
		n += 4
	}
	return h, n, nil
}

// AppendFrame appends one whole frame (FIN set) of opcode op with payload p
// to dst, masked with mask when it is non-nil (clients mask every frame).
func AppendFrame(dst []byte, op byte, p []byte, mask *[4]byte) []byte {
	dst = append(dst, 0x80|op&0x0f)
	mbit := byte(0)
	if mask != nil {
		mbit = 0x80
	}
	switch n := len(p); {
	case n < 126:
		dst = append(dst, mbit|byte(n))
	case n <= 0xffff:
		dst = append(dst, mbit|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, mbit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if mask == nil {
		return append(dst, p...)
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, p...)
	unmask(dst[start:], *mask, 0)
	return dst
}

// unmask XORs p with the mask, p starting at byte pos of the payload.
func unmask(p []byte, mask [4]byte, pos int64) {
	for i := range p {
		p[i] ^= mask[(pos+int64(i))&3]
	}
}

// Message is one message a Reader joined.
type Message struct {
	// Opcode is OpText, OpBinary, OpClose, OpPing or OpPong.
	Opcode byte
	// Data is the payload: unmasked, joined, decompressed. It is only valid
	// until the next call of Feed; copy it to keep it.
	Data []byte
	// Compressed is set when the message was sent compressed.
	Compressed bool
}

// Reader joins the frames of one direction of a conversation into messages.
// The zero value reads a conversation without extensions.
type Reader struct {
	// Deflate makes the Reader decompress messages whose first frame has
	// RSV1 set (permessage-deflate was negotiated).
	Deflate bool
	// NoContextTakeover says the sender resets its compression context
	// after each message (server_ or client_no_context_takeover).
	NoContextTakeover bool
	// MaxMessage bounds a message's size, compressed or not; 0 means
	// DefaultMaxMessage.
	MaxMessage int64

	buf     []byte // bytes not yet consumed: part of a header or payload
	hdr     Header
	inFrame bool  // hdr is the current frame's header
	pos     int64 // payload bytes of the current frame consumed
	msg     []byte
	msgOp   byte // opcode of the data message being joined; 0: none
	msgZ    bool // that message is compressed
	ctl     []byte
	out     []byte // decompressed message
	dict    []byte // last 32 KiB of decompressed output (context takeover)
	fr      io.ReadCloser
	err     error
}

// Err returns the error that stopped the Reader, or nil.
func (r *Reader) Err() error { return r.err }

// Pending reports whether the Reader holds part of a frame or a message.
func (r *Reader) Pending() bool { return len(r.buf) > 0 || r.inFrame || r.msgOp != 0 }

// Feed parses b, which continues what earlier calls were given, and calls
// emit for each message completed. It returns the first error of the stream
// or of emit; after an error the Reader ignores further input.
func (r *Reader) Feed(b []byte, emit func(Message) error) error {
	if r.err != nil {
		return r.err
	}
	data := b
	if len(r.buf) > 0 {
		r.buf = append(r.buf, b...)
		data = r.buf
	}
	n, err := r.consume(data, emit)
	if err != nil {
		r.err = err
		r.buf = nil
		return err
	}
	rest := data[n:]
	if len(r.buf) > 0 {
		r.buf = append(r.buf[:0], rest...)
	} else if len(rest) > 0 {
		r.buf = append(r.buf, rest...)
	}
	return nil
}

// consume parses whole headers and as much payload as data holds; it
// returns how many bytes it used.
func (r *Reader) consume(data []byte, emit func(Message) error) (int, error) {
	used := 0
	for {
		if !r.inFrame {
			h, n, err := ParseHeader(data[used:])
			if err == ErrShort {
				return used, nil
			}
			if err != nil {
				return used, err
			}
			if err := r.start(h); err != nil {
				return used, err
			}
			used += n
			r.hdr, r.inFrame, r.pos = h, true, 0
		}
		avail := int64(len(data) - used)
		take := min(avail, r.hdr.Length-r.pos)
		r.payload(data[used : used+int(take)])
		used += int(take)
		r.pos += take
		if r.pos < r.hdr.Length {
			return used, nil // wait for the rest of the payload
		}
		r.inFrame = false
		if err := r.end(emit); err != nil {
			return used, err
		}
	}
}

// start checks a new frame's header against the message being joined.
func (r *Reader) start(h Header) error {
	limit := r.MaxMessage
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	switch {
	case h.Opcode >= OpClose:
		if h.RSV1 {
			return errors.New("wsframe: compressed control frame")
		}
		r.ctl = r.ctl[:0]
		return nil
	case h.Opcode == OpContinuation && r.msgOp == 0:
		return errors.New("wsframe: continuation frame without a message to continue")
	case h.Opcode != OpContinuation && r.msgOp != 0:
		return errors.New("wsframe: new message before the last one's final fragment")
	case h.Opcode == OpContinuation && h.RSV1:
		return errors.New("wsframe: RSV1 set on a continuation frame")
	case h.RSV1 && !r.Deflate:
		return errors.New("wsframe: RSV1 set but permessage-deflate was not negotiated")
	}
	if int64(len(r.msg))+h.Length > limit {
		return fmt.Errorf("wsframe: message longer than %d bytes", limit)
	}
	if h.Opcode != OpContinuation {
		r.msgOp, r.msgZ, r.msg = h.Opcode, h.RSV1, r.msg[:0]
	}
	return nil
}

// payload appends payload bytes of the current frame, unmasked.
func (r *Reader) payload(p []byte) {
	dst := &r.msg
	if r.hdr.Opcode >= OpClose {
		dst = &r.ctl
	}
	start := len(*dst)
	*dst = append(*dst, p...)
	if r.hdr.Masked {
		unmask((*dst)[start:], r.hdr.Mask, r.pos)
	}
}

// end finishes a frame: a control frame or a data message's last fragment
// is emitted.
func (r *Reader) end(emit func(Message) error) error {
	if r.hdr.Opcode >= OpClose {
		return emit(Message{Opcode: r.hdr.Opcode, Data: r.ctl})
	}
	if !r.hdr.Fin {
		return nil
	}
	m := Message{Opcode: r.msgOp, Data: r.msg, Compressed: r.msgZ}
	r.msgOp = 0
	if r.msgZ {
		out, err := r.inflate(r.msg)
		if err != nil {
			return err
		}
		m.Data = out
	}
	return emit(m)
}

// tail ends a compressed message's deflate data: the sync-flush marker the
// sender removed, then an empty final stored block, so that the stream ends.
var tail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// inflate decompresses one message, with the previous messages' output as
// the dictionary unless the sender resets its context.
func (r *Reader) inflate(p []byte) ([]byte, error) {
	limit := r.MaxMessage
	if limit <= 0 {
		limit = DefaultMaxMessage
	}
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(tail[:]))
	var dict []byte
	if !r.NoContextTakeover {
		dict = r.dict
	}
	if r.fr == nil {
		r.fr = flate.NewReaderDict(src, dict)
	} else if err := r.fr.(flate.Resetter).Reset(src, dict); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(p) * 2)
	n, err := io.Copy(&out, io.LimitReader(r.fr, limit+1))
	if err != nil {
		return nil, fmt.Errorf("wsframe: inflating a message: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("wsframe: message inflates to more than %d bytes", limit)
	}
	r.out = append(r.out[:0], out.Bytes()...)
	if !r.NoContextTakeover {
		r.dict = append(r.dict, r.out...)
		if len(r.dict) > 32<<10 {
			r.dict = append(r.dict[:0], r.dict[len(r.dict)-32<<10:]...)
		}
	}
	return r.out, nil
}
