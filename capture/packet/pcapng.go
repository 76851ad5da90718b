package packet

import (
	"bufio"
	"encoding/binary"
	"io"
	"math"
	"math/bits"
	"time"

	"github.com/google/gopacket"
)

// pcapng block types read here; every other block is skipped.
const (
	ngBlockIDB = 0x00000001 // interface description
	ngBlockOPB = 0x00000002 // obsolete packet block
	ngBlockSPB = 0x00000003 // simple packet block
	ngBlockEPB = 0x00000006 // enhanced packet block
	ngBlockSHB = pcapngSHB  // section header

	ngByteOrderMagic = 0x1a2b3c4d
	maxBlock         = maxRecord + 1<<16
)

// ngInterface is what an interface description block says about the packets
// of one interface.
type ngInterface struct {
	link    LinkType
	snaplen uint32
	// Timestamps are counted in units of 1/tsPerSec seconds, plus offset.
	tsPerSec uint64
	offset   int64
}

// ngReader reads pcapng files: several sections, several interfaces with their
// own link types (all 32 bits kept) and timestamp resolutions.
type ngReader struct {
	fileReader
	order  binary.ByteOrder
	ifaces []ngInterface
}

func newNgReader(br *bufio.Reader) (*ngReader, error) {
	r := &ngReader{fileReader: fileReader{br: br}}
	// The first block must be a section header; read it like any other.
	h, err := r.br.Peek(12)
	if err != nil || binary.LittleEndian.Uint32(h[0:4]) != ngBlockSHB {
		if err != nil {
			return nil, r.truncated(0, "section header block incomplete")
		}
		return nil, r.corrupt(0, "not a pcapng section header")
	}
	return r, nil
}

// ReadPacket implements Source.
func (r *ngReader) ReadPacket() ([]byte, gopacket.CaptureInfo, LinkType, error) {
	for {
		start := r.off
		h, err := r.br.Peek(8)
		if err != nil {
			if len(h) == 0 && err == io.EOF {
				return nil, gopacket.CaptureInfo{}, 0, io.EOF
			}
			return nil, gopacket.CaptureInfo{}, 0, r.ioError(start, io.ErrUnexpectedEOF, "cut inside a block header")
		}
		typ := binary.LittleEndian.Uint32(h[0:4])
		if typ == ngBlockSHB {
			if err := r.readSectionHeader(); err != nil {
				return nil, gopacket.CaptureInfo{}, 0, err
			}
			continue
		}
		if r.order == nil {
			return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "block before the first section header")
		}
		typ = r.order.Uint32(h[0:4])
		size := r.order.Uint32(h[4:8])
		if size < 12 || size > maxBlock || size%4 != 0 {
			return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "block of type %#x has impossible length %d", typ, size)
		}
		block, err := r.next(int(size))
		if err != nil {
			return nil, gopacket.CaptureInfo{}, 0, r.ioError(start, err, "the last block is incomplete")
		}
		if r.order.Uint32(block[size-4:]) != size {
			return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "block lengths at its start and end differ")
		}
		body := block[8 : size-4]
		switch typ {
		case ngBlockIDB:
			if err := r.readInterface(start, body); err != nil {
				return nil, gopacket.CaptureInfo{}, 0, err
			}
		case ngBlockEPB, ngBlockOPB:
			var id uint32
			var rest []byte
			if len(body) < 20 {
				return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "packet block too short")
			}
			if typ == ngBlockEPB {
				id, rest = r.order.Uint32(body[0:4]), body[4:]
			} else {
				id, rest = uint32(r.order.Uint16(body[0:2])), body[4:]
			}
			if int(id) >= len(r.ifaces) {
				return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "packet of undeclared interface %d", id)
			}
			iface := &r.ifaces[id]
			ts := uint64(r.order.Uint32(rest[0:4]))<<32 | uint64(r.order.Uint32(rest[4:8]))
			incl, orig := r.order.Uint32(rest[8:12]), r.order.Uint32(rest[12:16])
			data := rest[16:]
			if uint64(incl) > uint64(len(data)) {
				return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "packet of %d bytes in a block of %d", incl, size)
			}
			if orig < incl {
				orig = incl
			}
			r.packets++
			ci := gopacket.CaptureInfo{Timestamp: iface.time(ts), CaptureLength: int(incl), Length: int(orig), InterfaceIndex: int(id)}
			return data[:incl], ci, iface.link, nil
		case ngBlockSPB:
			if len(r.ifaces) == 0 {
				return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "simple packet block without an interface")
			}
			if len(body) < 4 {
				return nil, gopacket.CaptureInfo{}, 0, r.corrupt(start, "simple packet block too short")
			}
			iface := &r.ifaces[0]
			orig := r.order.Uint32(body[0:4])
			data := body[4:]
			incl := min(uint64(orig), uint64(len(data)))
			if iface.snaplen > 0 {
				incl = min(incl, uint64(iface.snaplen))
			}
			r.packets++
			// No timestamp: the zero time would break flushing, so SPB packets
			// all get the section's start (the epoch).
			ci := gopacket.CaptureInfo{Timestamp: time.Unix(0, 0).UTC(), CaptureLength: int(incl), Length: int(max(orig, uint32(incl)))}
			return data[:incl], ci, iface.link, nil
		}
	}
}

// readSectionHeader starts a new section: byte order and interfaces reset.
func (r *ngReader) readSectionHeader() error {
	start := r.off
	h, err := r.br.Peek(12)
	if err != nil {
		return r.truncated(start, "cut inside a section header block")
	}
	var order binary.ByteOrder
	switch {
	case binary.LittleEndian.Uint32(h[8:12]) == ngByteOrderMagic:
		order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[8:12]) == ngByteOrderMagic:
		order = binary.BigEndian
	default:
		return r.corrupt(start, "section header with unknown byte order magic %x", h[8:12])
	}
	size := order.Uint32(h[4:8])
	if size < 28 || size > maxBlock || size%4 != 0 {
		return r.corrupt(start, "section header has impossible length %d", size)
	}
	block, err := r.next(int(size))
	if err != nil {
		return r.ioError(start, err, "cut inside a section header block")
	}
	if major := order.Uint16(block[12:14]); major != 1 {
		return r.corrupt(start, "pcapng version %d.%d is not supported", major, order.Uint16(block[14:16]))
	}
	r.order = order
	r.ifaces = r.ifaces[:0]
	return nil
}

// readInterface records an interface description.
func (r *ngReader) readInterface(start int64, body []byte) error {
	if len(body) < 8 {
		return r.corrupt(start, "interface description block too short")
	}
	iface := ngInterface{
		link:     LinkType(r.order.Uint16(body[0:2])),
		snaplen:  r.order.Uint32(body[4:8]),
		tsPerSec: 1_000_000,
	}
	// Options: code (2), length (2), value padded to 4 bytes.
	opts := body[8:]
	for len(opts) >= 4 {
		code, n := r.order.Uint16(opts[0:2]), int(r.order.Uint16(opts[2:4]))
		if code == 0 || 4+n > len(opts) {
			break
		}
		val := opts[4 : 4+n]
		switch {
		case code == 9 && n >= 1: // if_tsresol
			v := val[0]
			if v&0x80 == 0 {
				if v <= 19 {
					iface.tsPerSec = uint64(math.Pow10(int(v)))
				}
			} else if v&0x7f <= 63 {
				iface.tsPerSec = 1 << (v & 0x7f)
			}
		case code == 14 && n >= 8: // if_tsoffset, seconds
			iface.offset = int64(r.order.Uint64(val))
		}
		opts = opts[4+(n+3)&^3:]
	}
	if iface.tsPerSec == 0 {
		iface.tsPerSec = 1_000_000
	}
	r.ifaces = append(r.ifaces, iface)
	return nil
}

// time converts a raw timestamp of the interface.
func (i *ngInterface) time(ts uint64) time.Time {
	sec := ts / i.tsPerSec
	frac := ts % i.tsPerSec
	// frac < tsPerSec, so frac*1e9/tsPerSec < 1e9 and the division cannot
	// overflow.
	hi, lo := bits.Mul64(frac, 1_000_000_000)
	nsec, _ := bits.Div64(hi, lo, i.tsPerSec)
	return time.Unix(int64(sec)+i.offset, int64(nsec)).UTC()
}
