package packet

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/google/gopacket"
)

// Format is a packet capture file format.
type Format string

// The formats NewSource reads.
const (
	FormatPcap   Format = "pcap"   // libpcap/tcpdump, either byte order, µs or ns timestamps
	FormatPcapng Format = "pcapng" // pcap next generation (Wireshark's default)
)

// ErrNotCapture reports input that is neither pcap nor pcapng.
var ErrNotCapture = errors.New("not a packet capture (pcap, pcapng)")

// ErrTruncated is matched (errors.Is) by a *ReadError for a capture cut short
// in the middle of a packet or block, as a capture still being written or
// killed mid-write is. Every whole packet before the cut has been returned.
var ErrTruncated = errors.New("capture cut short")

// ReadError reports a capture file that cannot be read past some point.
type ReadError struct {
	// Packets is the number of packets read before the problem.
	Packets int64
	// Offset is the byte offset (in the uncompressed stream) where it starts.
	Offset int64
	// Truncated is set when the file simply ends early (see ErrTruncated).
	Truncated bool
	// Detail says what is wrong.
	Detail string
}

// Error implements error.
func (e *ReadError) Error() string {
	if e.Truncated {
		return fmt.Sprintf("cut short at byte %d after %d packets: %s", e.Offset, e.Packets, e.Detail)
	}
	return fmt.Sprintf("bad data at byte %d after %d packets: %s", e.Offset, e.Packets, e.Detail)
}

// Is makes errors.Is(err, ErrTruncated) true for truncation.
func (e *ReadError) Is(target error) bool { return target == ErrTruncated && e.Truncated }

// Magic numbers at the start of the supported files.
const (
	pcapMagicMicro    = 0xa1b2c3d4
	pcapMagicNano     = 0xa1b23c4d
	pcapMagicKuznetov = 0xa1b2cd34 // "modified" libpcap with 8 more bytes per record
	pcapngSHB         = 0x0a0d0d0a
)

// readBufferSize is the buffer of the file readers; records that fit are
// returned without copying.
const readBufferSize = 1 << 20

// Sniff recognises a packet capture by its first 4 bytes (the magic number of
// pcap, in either byte order and resolution, or of pcapng's section header
// block); it returns "" for anything else.
func Sniff(head []byte) Format {
	if len(head) < 4 {
		return ""
	}
	le := uint32(head[0]) | uint32(head[1])<<8 | uint32(head[2])<<16 | uint32(head[3])<<24
	be := uint32(head[3]) | uint32(head[2])<<8 | uint32(head[1])<<16 | uint32(head[0])<<24
	switch {
	case le == pcapngSHB:
		return FormatPcapng
	case le == pcapMagicMicro || le == pcapMagicNano || le == pcapMagicKuznetov,
		be == pcapMagicMicro || be == pcapMagicNano || be == pcapMagicKuznetov:
		return FormatPcap
	}
	return ""
}

// A Source yields the packets of a capture one by one.
type Source interface {
	// ReadPacket returns the next packet, its capture metadata and its link
	// type. The data is valid until the next call. At the end it returns
	// io.EOF; a damaged or cut file gives a *ReadError after the last good
	// packet.
	ReadPacket() (data []byte, ci gopacket.CaptureInfo, link LinkType, err error)
}

// NewSource returns a Source reading a capture of format f (FormatPcap or
// FormatPcapng) from r, or of the format Sniff recognises when f is "" (an
// error matching ErrNotCapture if it recognises none). Gzipped files are
// unwrapped by the caller (capture/ingest does).
func NewSource(r io.Reader, f Format) (Source, error) {
	br, ok := r.(*bufio.Reader)
	if !ok || br.Size() < readBufferSize {
		br = bufio.NewReaderSize(r, readBufferSize)
	}
	if f == "" {
		head, _ := br.Peek(4)
		if f = Sniff(head); f == "" {
			return nil, ErrNotCapture
		}
	}
	switch f {
	case FormatPcap:
		return newPcapReader(br)
	case FormatPcapng:
		return newNgReader(br)
	}
	return nil, fmt.Errorf("packet: %q is not a packet capture format", f)
}

// fileReader is the byte-level reading shared by the pcap and pcapng readers:
// zero-copy reads from a large buffer, with a spill buffer for big records.
type fileReader struct {
	br      *bufio.Reader
	off     int64 // offset of the next unread byte
	packets int64 // packets returned
	spill   []byte
}

// next returns the next n bytes, valid until the following call. At a clean end
// (no byte left) it returns io.EOF; a short read gives io.ErrUnexpectedEOF.
func (f *fileReader) next(n int) ([]byte, error) {
	if n <= f.br.Size() {
		b, err := f.br.Peek(n)
		if err != nil {
			if len(b) == 0 && err == io.EOF {
				return nil, io.EOF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		_, _ = f.br.Discard(n)
		f.off += int64(n)
		return b, nil
	}
	if cap(f.spill) < n {
		f.spill = make([]byte, n)
	}
	b := f.spill[:n]
	m, err := io.ReadFull(f.br, b)
	f.off += int64(m)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// truncated builds the error for a file that ends inside what started at off.
func (f *fileReader) truncated(off int64, what string) error {
	return &ReadError{Packets: f.packets, Offset: off, Truncated: true, Detail: what}
}

// corrupt builds the error for impossible content at off.
func (f *fileReader) corrupt(off int64, format string, args ...any) error {
	return &ReadError{Packets: f.packets, Offset: off, Detail: fmt.Sprintf(format, args...)}
}

// ioError wraps a failed read at off: a cut becomes a truncation error.
func (f *fileReader) ioError(off int64, err error, what string) error {
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return f.truncated(off, what)
	}
	return &ReadError{Packets: f.packets, Offset: off, Detail: err.Error()}
}
