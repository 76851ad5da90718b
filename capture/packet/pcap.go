package packet

import (
	"bufio"
	"encoding/binary"
	"io"
	"time"

	"github.com/google/gopacket"
)

// maxRecord is the largest packet record accepted; a bigger length means a
// damaged file. (tcpdump's own limit is 256 KiB; some tools write up to 16 MiB
// for USB and similar link types.)
const maxRecord = 16 << 20

// pcapReader reads the classic libpcap format, written by tcpdump and most
// capture tools. Unlike gopacket's pcapgo reader it keeps the full 32-bit link
// type (LINKTYPE_LINUX_SLL2 is 276) and never fails on a snap length that the
// records exceed: tcpdump does not enforce it either.
type pcapReader struct {
	fileReader
	order   binary.ByteOrder
	nanos   bool
	link    LinkType
	recHdr  int // 16, or 24 for the modified (Kuznetzov) format
	snaplen uint32
}

func newPcapReader(br *bufio.Reader) (*pcapReader, error) {
	r := &pcapReader{fileReader: fileReader{br: br}, recHdr: 16}
	h, err := r.next(24)
	if err != nil {
		return nil, r.ioError(0, err, "file header (24 bytes) incomplete")
	}
	switch magic := binary.LittleEndian.Uint32(h[0:4]); magic {
	case pcapMagicMicro, pcapMagicNano, pcapMagicKuznetov:
		r.order = binary.LittleEndian
	default:
		r.order = binary.BigEndian
	}
	switch r.order.Uint32(h[0:4]) {
	case pcapMagicNano:
		r.nanos = true
	case pcapMagicKuznetov:
		r.recHdr = 24
	case pcapMagicMicro:
	default:
		return nil, r.corrupt(0, "not a pcap file header (magic %x)", h[0:4])
	}
	r.snaplen = r.order.Uint32(h[16:20])
	// The upper bits of the link type field carry the FCS length; the type is
	// the low 16 bits.
	r.link = LinkType(r.order.Uint32(h[20:24]) & 0xffff)
	return r, nil
}

// ReadPacket implements Source.
func (r *pcapReader) ReadPacket() ([]byte, gopacket.CaptureInfo, LinkType, error) {
	start := r.off
	h, err := r.next(r.recHdr)
	if err == io.EOF {
		return nil, gopacket.CaptureInfo{}, 0, io.EOF
	}
	if err != nil {
		return nil, gopacket.CaptureInfo{}, 0, r.ioError(start, err, "cut inside a packet record header")
	}
	sec := r.order.Uint32(h[0:4])
	frac := r.order.Uint32(h[4:8])
	incl := r.order.Uint32(h[8:12])
	orig := r.order.Uint32(h[12:16])
	if incl > maxRecord {
		return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "packet record claims %d bytes", incl)
	}
	if orig < incl {
		orig = incl
	}
	data, err := r.next(int(incl))
	if err != nil {
		return nil, gopacket.CaptureInfo{}, 0, r.ioError(start,
			err, "the last packet record is incomplete")
	}
	var ts time.Time
	if r.nanos {
		ts = time.Unix(int64(sec), int64(frac)).UTC()
	} else {
		ts = time.Unix(int64(sec), int64(frac)*1000).UTC()
	}
	r.packets++
	return data, gopacket.CaptureInfo{Timestamp: ts, CaptureLength: int(incl), Length: int(orig)}, r.link, nil
}
