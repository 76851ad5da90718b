package ingest

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
	"github.com/ampload/amp/capture/packet"
)

// Format is the content type of an input file, as Detect recognises it.
type Format string

// The formats Detect recognises. Import reads the first three.
const (
	FormatPcap      = Format(packet.FormatPcap)   // see packet.FormatPcap
	FormatPcapng    = Format(packet.FormatPcapng) // see packet.FormatPcapng
	FormatHAR       = Format("har")               // HTTP Archive (JSON) exported by browsers and proxies
	FormatRecording = Format("amp")               // an amp recording, which needs no import
)

// ParseFormat checks a forced format (amp import --format): pcap, pcapng or
// har.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatPcap, FormatPcapng, FormatHAR:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (want pcap, pcapng or har)", s)
}

// ErrUnknownFormat reports input that is neither pcap, pcapng, HAR nor an
// amp recording.
var ErrUnknownFormat = errors.New("not a packet capture (pcap, pcapng) or HAR file")

// sniffSize is how much of the start of a file Detect looks at.
const sniffSize = 512

// Detect reads the start of r and reports what it holds. A gzip stream is
// unwrapped (and its content detected). The returned reader yields the
// (decompressed) content from its first byte, also when the format is not
// recognised (ErrUnknownFormat); use it instead of r. Only a broken gzip
// header gives no reader.
func Detect(r io.Reader) (Format, io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	head, _ := br.Peek(sniffSize)
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", nil, fmt.Errorf("gzip: %w", err)
		}
		f, inner, err := Detect(zr)
		if err != nil {
			return f, inner, fmt.Errorf("inside gzip: %w", err)
		}
		return f, inner, nil
	}
	switch {
	case packet.Sniff(head) != "":
		return Format(packet.Sniff(head)), br, nil
	case strings.HasPrefix(string(head), capture.Magic):
		return FormatRecording, br, nil
	case har.Sniff(head):
		return FormatHAR, br, nil
	}
	return "", br, ErrUnknownFormat
}

// Input is one file to import.
type Input struct {
	// Path names the file.
	Path string
	// Format is what it holds.
	Format Format
}

// DetectFile checks the file at path and recognises its format; forced (if
// not "") is taken instead. It refuses, naming the file: a missing file, a
// directory, an amp recording, unrecognised content and a packet capture
// whose first packet has a link type Import cannot decode.
func DetectFile(path string, forced Format) (Input, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Input{}, fmt.Errorf("%s: no such file", path)
		}
		return Input{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Input{}, err
	}
	if st.IsDir() {
		return Input{}, fmt.Errorf("%s is a directory", path)
	}
	if forced != "" {
		return Input{Path: path, Format: forced}, nil
	}
	format, r, err := Detect(f)
	switch {
	case errors.Is(err, ErrUnknownFormat):
		return Input{}, fmt.Errorf("%s: %v (--format forces one)", path, err)
	case err != nil:
		return Input{}, fmt.Errorf("%s: %v", path, err)
	case format == FormatRecording:
		return Input{}, recordingError(path)
	case format == FormatPcap || format == FormatPcapng:
		// The first packet's link type tells early whether it can be read.
		if src, err := packet.NewSource(r, packet.Format(format)); err == nil {
			if _, _, link, err := src.ReadPacket(); err == nil && !link.Supported() {
				return Input{}, &LinkError{Path: path, Links: []string{link.String()}}
			}
		}
	}
	return Input{Path: path, Format: format}, nil
}

// recordingError refuses to import an amp recording.
func recordingError(path string) error {
	return fmt.Errorf("%s is an amp recording already ('amp sessions %s' lists it)", path, path)
}

// LinkError reports a packet capture whose packets all have link types that
// cannot be decoded.
type LinkError struct {
	// Path names the file.
	Path string
	// Links are the link types found, sorted.
	Links []string
}

// Error implements error.
func (e *LinkError) Error() string {
	return fmt.Sprintf("%s: link type %s is not supported (Ethernet, Linux cooked v1/v2, loopback and raw IP are)",
		e.Path, strings.Join(e.Links, ", "))
}
