package packet_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// t0 is when generated captures start.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// frame is one generated packet.
type frame struct {
	ts   time.Time
	data []byte
}

// capBuilder generates captures packet by packet with gopacket's
// SerializeLayers: TCP connections with correct sequence and acknowledgement
// numbers, framed in any supported link type.
type capBuilder struct {
	t      testing.TB
	link   packet.LinkType
	vlan   bool // add an 802.1Q tag (Ethernet only)
	now    time.Time
	frames []*frame
}

func newBuilder(t testing.TB, link packet.LinkType) *capBuilder {
	return &capBuilder{t: t, link: link, now: t0}
}

// tick advances the clock by d.
func (b *capBuilder) tick(d time.Duration) { b.now = b.now.Add(d) }

// tcpConn is one generated TCP connection.
type tcpConn struct {
	b              *capBuilder
	client, server netip.AddrPort
	cseq, sseq     uint32 // next sequence number of each side
	cisn, sisn     uint32
}

// conn starts a connection between client and server ("ip:port").
func (b *capBuilder) conn(client, server string) *tcpConn {
	c := &tcpConn{b: b, client: netip.MustParseAddrPort(client), server: netip.MustParseAddrPort(server)}
	c.cisn, c.sisn = 1000, 5000
	c.cseq, c.sseq = c.cisn, c.sisn
	return c
}

// handshake sends SYN, SYN-ACK and ACK.
func (c *tcpConn) handshake() {
	c.segment(true, nil, "S")
	c.cseq++
	c.segment(false, nil, "SA")
	c.sseq++
	c.segment(true, nil, "A")
}

// midStream sets the sequence numbers as if the connection had carried data
// before the capture started.
func (c *tcpConn) midStream() {
	c.cseq += 77777
	c.sseq += 99999
}

// send sends payload from the client (or server) in one segment and returns
// its frame.
func (c *tcpConn) send(fromClient bool, payload string) *frame {
	return c.sendSplit(fromClient, payload)[0]
}

// sendSplit sends payload in segments of the given sizes (the rest in a last
// segment) and returns their frames.
func (c *tcpConn) sendSplit(fromClient bool, payload string, sizes ...int) []*frame {
	var out []*frame
	p := []byte(payload)
	for _, n := range sizes {
		out = append(out, c.data(fromClient, p[:n]))
		p = p[n:]
	}
	if len(p) > 0 || len(out) == 0 {
		out = append(out, c.data(fromClient, p))
	}
	return out
}

func (c *tcpConn) data(fromClient bool, p []byte) *frame {
	f := c.segment(fromClient, p, "PA")
	if fromClient {
		c.cseq += uint32(len(p))
	} else {
		c.sseq += uint32(len(p))
	}
	return f
}

// fin closes one side.
func (c *tcpConn) fin(fromClient bool) {
	c.segment(fromClient, nil, "FA")
	if fromClient {
		c.cseq++
	} else {
		c.sseq++
	}
}

// segment builds and records one TCP segment with the given flags (S, A, P, F,
// R) at the current sequence numbers.
func (c *tcpConn) segment(fromClient bool, payload []byte, flags string) *frame {
	b := c.b
	src, dst := c.client, c.server
	seq, ack := c.cseq, c.sseq
	if !fromClient {
		src, dst = dst, src
		seq, ack = ack, seq
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq, Window: 65535}
	for _, f := range flags {
		switch f {
		case 'S':
			tcp.SYN = true
		case 'A':
			tcp.ACK = true
		case 'P':
			tcp.PSH = true
		case 'F':
			tcp.FIN = true
		case 'R':
			tcp.RST = true
		}
	}
	if tcp.ACK {
		tcp.Ack = ack
	}
	f := &frame{ts: b.now, data: b.encap(src.Addr(), dst.Addr(), tcp, payload)}
	b.frames = append(b.frames, f)
	b.tick(100 * time.Microsecond)
	return f
}

// encap serializes IP, TCP and payload and frames them for the builder's link
// type.
func (b *capBuilder) encap(src, dst netip.Addr, tcp *layers.TCP, payload []byte) []byte {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var ipLayer gopacket.SerializableLayer
	var etype layers.EthernetType
	if src.Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ipLayer, etype = ip, layers.EthernetTypeIPv4
	} else {
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ipLayer, etype = ip, layers.EthernetTypeIPv6
	}
	if err := gopacket.SerializeLayers(buf, opts, ipLayer, tcp, gopacket.Payload(payload)); err != nil {
		b.t.Fatal(err)
	}
	ipBytes := buf.Bytes()
	var head []byte
	switch b.link {
	case packet.LinkEthernet:
		eth := make([]byte, 14, 18)
		copy(eth[0:6], []byte{0, 1, 2, 3, 4, 5})
		copy(eth[6:12], []byte{0, 6, 7, 8, 9, 10})
		if b.vlan {
			binary.BigEndian.PutUint16(eth[12:14], 0x8100)
			eth = append(eth, 0, 42, 0, 0)
			binary.BigEndian.PutUint16(eth[16:18], uint16(etype))
		} else {
			binary.BigEndian.PutUint16(eth[12:14], uint16(etype))
		}
		head = eth
	case packet.LinkLinuxSLL:
		head = make([]byte, 16)
		binary.BigEndian.PutUint16(head[2:4], 772) // ARPHRD_LOOPBACK
		binary.BigEndian.PutUint16(head[14:16], uint16(etype))
	case packet.LinkLinuxSLL2:
		head = make([]byte, 20)
		binary.BigEndian.PutUint16(head[0:2], uint16(etype))
		binary.BigEndian.PutUint32(head[4:8], 1)    // interface index
		binary.BigEndian.PutUint16(head[8:10], 772) // ARPHRD_LOOPBACK
		head[11] = 6                                // address length
	case packet.LinkNull:
		head = make([]byte, 4)
		fam := uint32(2)
		if etype == layers.EthernetTypeIPv6 {
			fam = 30
		}
		binary.LittleEndian.PutUint32(head, fam)
	case packet.LinkRaw:
	default:
		b.t.Fatalf("builder: link type %v", b.link)
	}
	return append(head, ipBytes...)
}

// pcap writes the frames as a pcap file (nanosecond timestamps), with the
// builder's link type written as 32 bits (SLL2 is 276). snaplen > 0 cuts
// every frame to that length.
func (b *capBuilder) pcap(snaplen int) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		b.t.Fatal(err)
	}
	// pcapgo writes an 8-bit link type; patch in the real one.
	binary.LittleEndian.PutUint32(buf.Bytes()[20:24], uint32(b.link))
	for _, f := range b.frames {
		data := f.data
		if snaplen > 0 && len(data) > snaplen {
			data = data[:snaplen]
		}
		ci := gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(data), Length: len(f.data)}
		if err := w.WritePacket(ci, data); err != nil {
			b.t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapng writes the frames as a pcapng file.
func (b *capBuilder) pcapng() []byte {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		b.t.Fatal(err)
	}
	for _, f := range b.frames {
		ci := gopacket.CaptureInfo{Timestamp: f.ts, CaptureLength: len(f.data), Length: len(f.data)}
		if err := w.WritePacket(ci, f.data); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.t.Fatal(err)
	}
	out := buf.Bytes()
	if b.link != packet.LinkEthernet {
		// Patch the interface description block's link type (the block after
		// the section header).
		shb := binary.LittleEndian.Uint32(out[4:8])
		binary.LittleEndian.PutUint16(out[shb+8:shb+10], uint16(b.link))
	}
	return out
}

// move reorders frames: the frame at index from is moved to index to.
func (b *capBuilder) move(from, to int) {
	f := b.frames[from]
	b.frames = append(b.frames[:from], b.frames[from+1:]...)
	b.frames = append(b.frames[:to], append([]*frame{f}, b.frames[to:]...)...)
}

// indexOf returns the index of f in the capture.
func (b *capBuilder) indexOf(f *frame) int {
	for i, g := range b.frames {
		if g == f {
			return i
		}
	}
	b.t.Fatal("frame not in capture")
	return -1
}

// drop removes f from the capture (a packet the capture missed).
func (b *capBuilder) drop(f *frame) {
	i := b.indexOf(f)
	b.frames = append(b.frames[:i], b.frames[i+1:]...)
}

// sourceOf reads a capture file, gzipped or not, as amp import does.
func sourceOf(t testing.TB, r io.Reader) packet.Source {
	t.Helper()
	br := bufio.NewReader(r)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	} else {
		r = br
	}
	src, err := packet.NewSource(r, "")
	if err != nil {
		t.Fatalf("NewSource: %v", err)
	}
	return src
}

// importBytes runs a capture file through NewSource and an Importer.
func importBytes(t testing.TB, data []byte, cfg packet.Config) ([]*capture.Exchange, packet.Stats, error) {
	t.Helper()
	src := sourceOf(t, bytes.NewReader(data))
	var out []*capture.Exchange
	im, err := packet.NewImporter(cfg, capture.SinkFunc(func(e *capture.Exchange) error {
		out = append(out, e)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	rerr := im.Read(context.Background(), src, nil)
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	return out, im.Stats(), rerr
}

// gzipped compresses data.
func gzipped(t testing.TB, data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
