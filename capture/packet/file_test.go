package packet_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/ampload/amp/capture/packet"
)

// bigEndianPcap writes the builder's frames as a big-endian pcap with
// microsecond timestamps.
func bigEndianPcap(b *capBuilder) []byte {
	var buf bytes.Buffer
	be := binary.BigEndian
	hdr := make([]byte, 24)
	be.PutUint32(hdr[0:4], 0xa1b2c3d4)
	be.PutUint16(hdr[4:6], 2)
	be.PutUint16(hdr[6:8], 4)
	be.PutUint32(hdr[16:20], 0) // snap length 0: records must still be read
	be.PutUint32(hdr[20:24], uint32(b.link))
	buf.Write(hdr)
	for _, f := range b.frames {
		rec := make([]byte, 16)
		be.PutUint32(rec[0:4], uint32(f.ts.Unix()))
		be.PutUint32(rec[4:8], uint32(f.ts.Nanosecond()/1000))
		be.PutUint32(rec[8:12], uint32(len(f.data)))
		be.PutUint32(rec[12:16], uint32(len(f.data)))
		buf.Write(rec)
		buf.Write(f.data)
	}
	return buf.Bytes()
}

// bigEndianPcapng writes the frames as a big-endian pcapng with two
// interfaces: the first unused (Ethernet), the second of the builder's link
// type with millisecond timestamps and a 100 s offset.
func bigEndianPcapng(b *capBuilder) []byte {
	var buf bytes.Buffer
	be := binary.BigEndian
	block := func(typ uint32, body []byte) {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		n := uint32(12 + len(body))
		var h [8]byte
		be.PutUint32(h[0:4], typ)
		be.PutUint32(h[4:8], n)
		buf.Write(h[:])
		buf.Write(body)
		var t [4]byte
		be.PutUint32(t[:], n)
		buf.Write(t[:])
	}
	shb := make([]byte, 16)
	be.PutUint32(shb[0:4], 0x1a2b3c4d)
	be.PutUint16(shb[4:6], 1)
	binary.BigEndian.PutUint64(shb[8:16], ^uint64(0))
	block(0x0a0d0d0a, shb)
	idb := func(link packet.LinkType, opts []byte) []byte {
		b := make([]byte, 8)
		be.PutUint16(b[0:2], uint16(link))
		be.PutUint32(b[4:8], 65535)
		return append(b, opts...)
	}
	block(1, idb(packet.LinkEthernet, nil))
	opts := []byte{0, 9, 0, 1, 3, 0, 0, 0, 0, 14, 0, 8, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0}
	block(1, idb(b.link, opts))
	for _, f := range b.frames {
		ms := uint64(f.ts.Add(-100*time.Second).UnixNano() / 1e6)
		epb := make([]byte, 20)
		be.PutUint32(epb[0:4], 1)
		be.PutUint32(epb[4:8], uint32(ms>>32))
		be.PutUint32(epb[8:12], uint32(ms))
		be.PutUint32(epb[12:16], uint32(len(f.data)))
		be.PutUint32(epb[16:20], uint32(len(f.data)))
		block(6, append(epb, f.data...))
	}
	return buf.Bytes()
}

// TestByteOrders imports big-endian pcap and pcapng files (SLL2, the pcapng
// with a timestamp resolution and offset).
func TestByteOrders(t *testing.T) {
	b := newBuilder(t, packet.LinkLinuxSLL2)
	b.now = b.now.Add(123 * time.Millisecond)
	keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80")
	for name, data := range map[string][]byte{"pcap": bigEndianPcap(b), "pcapng": bigEndianPcapng(b)} {
		got, _, err := importBytes(t, data, packet.Config{})
		if err != nil || len(got) != 3 {
			t.Fatalf("%s: %d exchanges, %v", name, len(got), err)
		}
		for i, w := range keepAliveWant {
			w.check(t, i, got[i])
		}
		// The first request is the 4th frame; millisecond resolution.
		if want := b.frames[3].ts.Truncate(time.Millisecond); !got[0].Start.Truncate(time.Millisecond).Equal(want) {
			t.Errorf("%s: start %v, want %v", name, got[0].Start, want)
		}
	}
}

// TestSniff checks that NewSource recognises pcap and pcapng by content and
// refuses anything else.
func TestSniff(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80")
	tests := []struct {
		name string
		data []byte
		want packet.Format
	}{
		{"pcap", b.pcap(0), packet.FormatPcap},
		{"pcapng", b.pcapng(), packet.FormatPcapng},
		{"gzipped pcapng", gzipped(t, b.pcapng()), ""},
		{"HAR", []byte(`{"log": {}}`), ""},
		{"short", []byte{0xd4, 0xc3}, ""},
		{"empty", nil, ""},
	}
	for _, tc := range tests {
		if f := packet.Sniff(tc.data); f != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, f, tc.want)
		}
		_, err := packet.NewSource(bytes.NewReader(tc.data), "")
		if (err == nil) != (tc.want != "") || err != nil && !errors.Is(err, packet.ErrNotCapture) {
			t.Errorf("%s: NewSource: %v", tc.name, err)
		}
	}
}

// TestCorruptFiles checks the errors for damaged captures.
func TestCorruptFiles(t *testing.T) {
	b := newBuilder(t, packet.LinkEthernet)
	keepAlive(b, "10.0.0.1:40000", "10.0.0.2:80")
	ng := b.pcapng()
	badLen := append([]byte(nil), ng...)
	shb := binary.LittleEndian.Uint32(badLen[4:8])
	binary.LittleEndian.PutUint32(badLen[shb+4:], 7) // the IDB's length
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"pcapng block length", badLen, "impossible length 7"},
		{"pcapng cut in a block", ng[:len(ng)-3], "cut short"},
		{"pcap header only", b.pcap(0)[:24], ""},
	}
	for _, tc := range tests {
		_, _, err := importBytes(t, tc.data, packet.Config{})
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.want))) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	var re *packet.ReadError
	_, _, err := importBytes(t, ng[:len(ng)-3], packet.Config{})
	if !errors.As(err, &re) || !re.Truncated || re.Packets == 0 {
		t.Errorf("cut pcapng: %#v", err)
	}
}
