package capture

import (
	"fmt"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// WebSocket opcodes (RFC 6455, section 5.2) of a WSMessage.
const (
	WSText   = 1
	WSBinary = 2
	WSClose  = 8
	WSPing   = 9
	WSPong   = 10
)

// WSMessage is one WebSocket message of an exchange that upgraded to
// WebSocket (status 101): its fragments joined, unmasked and, where
// permessage-deflate was negotiated, decompressed. Control frames (close,
// ping, pong) are kept as messages of their own.
type WSMessage struct {
	// Offset is the time from the exchange's Start to the message's last
	// frame, as the recorder saw it.
	Offset time.Duration
	// FromServer is set for a message the server sent, clear for one the
	// client sent.
	FromServer bool
	// Opcode is WSText, WSBinary, WSClose, WSPing or WSPong.
	Opcode uint8
	// Data is the payload, at most the recorder's body cap.
	Data []byte
	// Size is the payload's full size in bytes: larger than len(Data) when
	// Data was cut.
	Size int64
}

// IsData reports whether m is a text or binary message (not a control frame).
func (m *WSMessage) IsData() bool { return m.Opcode == WSText || m.Opcode == WSBinary }

// WSOpcodeName names an opcode: "text", "binary", "close", "ping", "pong",
// or "opcode N".
func WSOpcodeName(op uint8) string {
	switch op {
	case WSText:
		return "text"
	case WSBinary:
		return "binary"
	case WSClose:
		return "close"
	case WSPing:
		return "ping"
	case WSPong:
		return "pong"
	}
	return fmt.Sprintf("opcode %d", op)
}

// IsWebSocket reports whether e is a WebSocket upgrade that the server
// accepted (101 with Upgrade: websocket).
func (e *Exchange) IsWebSocket() bool {
	return e.Response.Status == 101 && hasToken(e.Response.Header.Get("Upgrade"), "websocket")
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

// wsMessages writes the messages as an array of arrays
// [offset ns, from server (0/1), opcode, data, size (when not len(data))].
func (w *fieldWriter) wsMessages(k int, ms []WSMessage) {
	if !w.key(k) {
		return
	}
	if w.err = w.enc.EncodeArrayLen(len(ms)); w.err != nil {
		return
	}
	for i := range ms {
		m := &ms[i]
		n := 4
		if m.Size != int64(len(m.Data)) {
			n = 5
		}
		dir := int64(0)
		if m.FromServer {
			dir = 1
		}
		for _, step := range []func() error{
			func() error { return w.enc.EncodeArrayLen(n) },
			func() error { return w.enc.EncodeInt(int64(m.Offset)) },
			func() error { return w.enc.EncodeInt(dir) },
			func() error { return w.enc.EncodeInt(int64(m.Opcode)) },
			func() error { return w.enc.EncodeBytes(m.Data) },
		} {
			if w.err = step(); w.err != nil {
				return
			}
		}
		if n == 5 {
			if w.err = w.enc.EncodeInt(m.Size); w.err != nil {
				return
			}
		}
	}
}

// decodeWSMessages reads what wsMessages wrote; elements beyond the fifth
// (from a newer writer) are skipped.
func decodeWSMessages(dec *msgpack.Decoder, limit int) ([]WSMessage, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil || n <= 0 {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("websocket message list has bad length %d", n)
	}
	ms := make([]WSMessage, n)
	for i := range ms {
		if err := decodeWSMessage(dec, &ms[i], limit); err != nil {
			return nil, fmt.Errorf("websocket message %d: %w", i, err)
		}
	}
	return ms, nil
}

func decodeWSMessage(dec *msgpack.Decoder, m *WSMessage, limit int) error {
	k, err := dec.DecodeArrayLen()
	if err != nil {
		return err
	}
	if k < 4 || k > limit {
		return fmt.Errorf("bad length %d", k)
	}
	off, err := dec.DecodeInt64()
	if err != nil {
		return err
	}
	dir, err := dec.DecodeInt()
	if err != nil {
		return err
	}
	op, err := dec.DecodeUint8()
	if err != nil {
		return err
	}
	if m.Data, err = dec.DecodeBytes(); err != nil {
		return err
	}
	m.Offset, m.FromServer, m.Opcode, m.Size = time.Duration(off), dir != 0, op, int64(len(m.Data))
	if k >= 5 {
		if m.Size, err = dec.DecodeInt64(); err != nil {
			return err
		}
	}
	for j := 5; j < k; j++ {
		if err := dec.Skip(); err != nil {
			return err
		}
	}
	return nil
}
