package proxy

import (
	"crypto/sha256"
	"hash"
	"io"
	"sync"
)

// bodyTap passes a body through unchanged while keeping a copy of its first
// max bytes, counting all of them and, once the copy is cut, hashing the whole
// body (SHA-256), so a truncated record still identifies the body. It never
// holds more than max bytes, so bodies of any size stream through.
//
// A request body is read by the Transport's writer goroutine while the
// recorder may already be finishing the exchange, hence the mutex.
type bodyTap struct {
	rc  io.ReadCloser
	max int64

	mu     sync.Mutex
	buf    []byte
	n      int64     // bytes read
	sum    hash.Hash // non-nil once the body outgrew max
	eof    bool      // the body was read to its end
	err    error     // the first read error other than io.EOF
	closed bool

	onClose func() // called once, on the first Close; may be nil
}

// newBodyTap taps rc, keeping up to max bytes; size is the body's length
// when known (else -1), to allocate the copy once.
func newBodyTap(rc io.ReadCloser, max, size int64) *bodyTap {
	t := &bodyTap{rc: rc, max: max}
	if size > 0 {
		t.buf = make([]byte, 0, min(size, max))
	}
	return t
}

// Read reads from the body, keeping what it read.
func (t *bodyTap) Read(p []byte) (int, error) {
	n, err := t.rc.Read(p)
	t.mu.Lock()
	if n > 0 {
		t.keep(p[:n])
	}
	switch {
	case err == io.EOF:
		t.eof = true
	case err != nil && t.err == nil:
		t.err = err
	}
	t.mu.Unlock()
	return n, err
}

// keep copies b into the capped buffer, or into the hash once the body has
// outgrown the buffer. t.mu is held.
func (t *bodyTap) keep(b []byte) {
	t.n += int64(len(b))
	if t.sum != nil {
		t.sum.Write(b)
		return
	}
	room := int(t.max - int64(len(t.buf)))
	if len(b) <= room {
		t.buf = append(t.buf, b...)
		return
	}
	t.buf = append(t.buf, b[:room]...)
	t.sum = sha256.New()
	t.sum.Write(t.buf)
	t.sum.Write(b[room:])
}

// Close closes the body and, the first time, calls onClose.
func (t *bodyTap) Close() error {
	err := t.rc.Close()
	t.mu.Lock()
	first := !t.closed
	t.closed = true
	t.mu.Unlock()
	if first && t.onClose != nil {
		t.onClose()
	}
	return err
}

// tapState is what a bodyTap saw, taken when its exchange is finished.
type tapState struct {
	body []byte
	n    int64
	hash []byte // SHA-256 of the whole body when body was cut
	eof  bool
	err  error
}

// state returns what the tap saw so far. The body slice is the tap's own;
// the tap must not be read from afterwards.
func (t *bodyTap) state() tapState {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := tapState{body: t.buf, n: t.n, eof: t.eof, err: t.err}
	if t.sum != nil {
		s.hash = t.sum.Sum(nil)
	}
	return s
}
