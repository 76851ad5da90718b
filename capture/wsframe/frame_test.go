package wsframe_test

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
	"testing"

	"github.com/ampload/amp/capture/wsframe"
)

// collect feeds data to r in pieces of size step and returns the messages.
func collect(t testing.TB, r *wsframe.Reader, data []byte, step int) ([]wsframe.Message, error) {
	var out []wsframe.Message
	emit := func(m wsframe.Message) error {
		m.Data = bytes.Clone(m.Data)
		out = append(out, m)
		return nil
	}
	for len(data) > 0 {
		n := min(step, len(data))
		if err := r.Feed(data[:n], emit); err != nil {
			return out, err
		}
		data = data[n:]
	}
	return out, nil
}

// fragment appends message p as frames of at most size bytes each, masked
// when mask is non-nil, with a ping between the first two fragments.
func fragment(dst []byte, op byte, p []byte, size int, mask *[4]byte) []byte {
	first := true
	for {
		n := min(size, len(p))
		b0 := byte(wsframe.OpContinuation)
		if first {
			b0 = op
		}
		fin := n == len(p)
		frame := wsframe.AppendFrame(nil, b0, p[:n], mask)
		if !fin {
			frame[0] &^= 0x80
		}
		dst = append(dst, frame...)
		if first && !fin {
			dst = wsframe.AppendFrame(dst, wsframe.OpPing, []byte("hb"), mask)
		}
		first = false
		p = p[n:]
		if fin {
			return dst
		}
	}
}

func TestReaderJoins(t *testing.T) {
	t.Parallel()
	mask := &[4]byte{1, 2, 3, 4}
	long := bytes.Repeat([]byte("0123456789"), 7000) // a 64-bit length
	mid := bytes.Repeat([]byte("ab"), 200)           // a 16-bit length
	for _, m := range []*[4]byte{nil, mask} {
		var data []byte
		data = wsframe.AppendFrame(data, wsframe.OpText, []byte("hello"), m)
		data = fragment(data, wsframe.OpBinary, long, 1000, m)
		data = wsframe.AppendFrame(data, wsframe.OpText, mid, m)
		data = wsframe.AppendFrame(data, wsframe.OpClose, []byte{3, 232}, m)
		for _, step := range []int{1, 7, 4096, len(data)} {
			var r wsframe.Reader
			got, err := collect(t, &r, data, step)
			if err != nil {
				t.Fatalf("mask %v step %d: %v", m != nil, step, err)
			}
			want := []struct {
				op   byte
				data []byte
			}{{wsframe.OpText, []byte("hello")}, {wsframe.OpPing, []byte("hb")}, {wsframe.OpBinary, long}, {wsframe.OpText, mid}, {wsframe.OpClose, []byte{3, 232}}}
			if len(got) != len(want) {
				t.Fatalf("mask %v step %d: %d messages, want %d", m != nil, step, len(got), len(want))
			}
			for i, w := range want {
				if got[i].Opcode != w.op || !bytes.Equal(got[i].Data, w.data) {
					t.Errorf("mask %v step %d: message %d = op %d %d bytes, want op %d %d bytes", m != nil, step, i, got[i].Opcode, len(got[i].Data), w.op, len(w.data))
				}
			}
			if r.Pending() {
				t.Errorf("step %d: the Reader still holds bytes after whole frames", step)
			}
		}
	}
}

// compressor is the sender's side of permessage-deflate.
type compressor struct {
	buf bytes.Buffer
	w   *flate.Writer
}

func (c *compressor) message(p []byte, reset bool) []byte {
	if c.w == nil || reset {
		c.buf.Reset()
		c.w, _ = flate.NewWriter(&c.buf, flate.BestSpeed)
	}
	c.buf.Reset()
	_, _ = c.w.Write(p)
	_ = c.w.Flush()
	b := bytes.Clone(c.buf.Bytes())
	return bytes.TrimSuffix(b, []byte{0, 0, 0xff, 0xff})
}

func TestReaderDeflate(t *testing.T) {
	t.Parallel()
	for _, noTakeover := range []bool{false, true} {
		var c compressor
		var data []byte
		var want []string
		for i := range 20 {
			msg := fmt.Sprintf(`{"type":"chat","room":"lobby","text":"message number %d, the same words again and again"}`, i)
			want = append(want, msg)
			z := c.message([]byte(msg), noTakeover)
			frame := wsframe.AppendFrame(nil, wsframe.OpText, z, nil)
			frame[0] |= 0x40 // RSV1: compressed
			data = append(data, frame...)
		}
		r := wsframe.Reader{Deflate: true, NoContextTakeover: noTakeover}
		got, err := collect(t, &r, data, 13)
		if err != nil {
			t.Fatalf("no context takeover %v: %v", noTakeover, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d messages, want %d", len(got), len(want))
		}
		for i := range want {
			if string(got[i].Data) != want[i] || !got[i].Compressed {
				t.Errorf("no context takeover %v: message %d = %q (compressed %v), want %q", noTakeover, i, got[i].Data, got[i].Compressed, want[i])
			}
		}
	}
}

func TestReaderRefuses(t *testing.T) {
	t.Parallel()
	cont := wsframe.AppendFrame(nil, wsframe.OpContinuation, []byte("x"), nil)
	unfinished := wsframe.AppendFrame(nil, wsframe.OpText, []byte("x"), nil)
	unfinished[0] &^= 0x80
	rsv1 := wsframe.AppendFrame(nil, wsframe.OpText, []byte("x"), nil)
	rsv1[0] |= 0x40
	longPing := wsframe.AppendFrame(nil, wsframe.OpPing, make([]byte, 126), nil)
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"reserved opcode":      {[]byte{0x83, 0}, "reserved opcode 3"},
		"rsv2":                 {[]byte{0xa1, 0}, "RSV2"},
		"continuation":         {cont, "without a message"},
		"interleaved messages": {append(unfinished, unfinished...), "before the last one's final"},
		"rsv1 without deflate": {rsv1, "not negotiated"},
		"long ping":            {longPing, "longer than 125"},
		"top bit length":       {[]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, "top bit"},
	} {
		var r wsframe.Reader
		_, err := collect(t, &r, tc.data, len(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one saying %q", name, err, tc.want)
		}
	}
	r := wsframe.Reader{MaxMessage: 10}
	if _, err := collect(t, &r, wsframe.AppendFrame(nil, wsframe.OpBinary, make([]byte, 11), nil), 100); err == nil {
		t.Error("a message over MaxMessage was accepted")
	}
}

// FuzzReader: whatever the bytes, in whatever pieces, the Reader neither
// panics nor emits a message larger than its bound, and a frame written by
// AppendFrame after a stream's end is read back whole.
func FuzzReader(f *testing.F) {
	f.Add(wsframe.AppendFrame(nil, wsframe.OpText, []byte("hi"), &[4]byte{9, 8, 7, 6}), 1, true)
	f.Add(fragment(nil, wsframe.OpBinary, bytes.Repeat([]byte("z"), 300), 100, nil), 50, false)
	f.Add([]byte{0xc1, 0x05, 0xf2, 0x48, 0xcd, 0xc9, 0xc9}, 3, true)
	f.Add([]byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 4, false)
	f.Fuzz(func(t *testing.T, data []byte, step int, deflate bool) {
		if step <= 0 || step > len(data) {
			step = max(len(data), 1)
		}
		r := wsframe.Reader{Deflate: deflate, MaxMessage: 1 << 16}
		msgs, err := collect(t, &r, data, step)
		for _, m := range msgs {
			if int64(len(m.Data)) > 1<<16 {
				t.Fatalf("a message of %d bytes, bound %d", len(m.Data), 1<<16)
			}
		}
		if err != nil || r.Pending() {
			return
		}
		payload := data[:min(len(data), 200)]
		got, err := collect(t, &r, wsframe.AppendFrame(nil, wsframe.OpBinary, payload, &[4]byte{1, 2, 3, 4}), step)
		if err != nil || len(got) != 1 || !bytes.Equal(got[0].Data, payload) {
			t.Fatalf("a whole frame after the stream: %d messages, err %v", len(got), err)
		}
	})
}

func BenchmarkReader(b *testing.B) {
	var data []byte
	for range 100 {
		data = wsframe.AppendFrame(data, wsframe.OpText, []byte(`{"type":"chat","text":"hello there"}`), &[4]byte{1, 2, 3, 4})
	}
	var r wsframe.Reader
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		_ = r.Feed(data, func(wsframe.Message) error { n++; return nil })
	}
}
