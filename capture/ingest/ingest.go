// Package ingest turns files into exchanges: packet captures (pcap, pcapng)
// and HAR files, gzipped or not, recognised by content (Detect, DetectFile).
// Import reads a list of them in order into one capture.Sink, grouping the
// exchanges of all files into sessions with one capture.Grouper, so that
// sessions and TCP connections span files. It is amp import without the
// command line: the command only translates flags, prints progress and
// picks the exit code. Capture does the same for a live capture.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
	"github.com/ampload/amp/capture/packet"
)

// Config configures an Import.
type Config struct {
	// Ports restricts packet captures to TCP connections on these server
	// ports; empty means any (HTTP is recognised by content).
	Ports []uint16
	// MaxBody is the number of body bytes kept per message; longer ones
	// are cut and flagged. Zero means packet.DefaultMaxBody, for HAR files
	// too.
	MaxBody int
	// Group configures the grouping into sessions.
	Group capture.GroupConfig
	// Warn, if not nil, is called with each warning as it arises (a capture
	// cut short, a file without packets, HAR entries skipped); Stats.Warnings
	// lists them too.
	Warn func(msg string)
	// Progress, if not nil, is called every few thousand packets.
	Progress func(Progress)
}

// Progress is how far an Import has come.
type Progress struct {
	// Path is the file being read.
	Path string
	// Read is the number of bytes of it read so far; Size is its size.
	Read, Size int64
	// Packets is the number of packets read in all files so far.
	Packets int64
	// Pairs counts the complete request/response pairs so far.
	Pairs int
	// Requests and Sessions count the exchanges written so far and the
	// sessions they form.
	Requests, Sessions int
}

// Stats counts what an Import read and wrote.
type Stats struct {
	// Files is the number of files read to their end.
	Files int
	// Packets counts what the packet captures held.
	Packets packet.Stats
	// HARFiles is the number of HAR files read; HAR adds up their counts.
	HARFiles int
	// HAR adds up the HAR files' counts.
	HAR har.Stats
	// Requests is the number of exchanges written to the sink.
	Requests int
	// Sessions is the number of sessions they form.
	Sessions int
	// Warnings are the warnings given, in order.
	Warnings []string
}

// Import reads inputs in order (see DetectFile) and writes their exchanges,
// with their session keys, to sink, flushing it (capture.Flush) after each
// file. Exchanges from packet captures are written as their connections
// complete them, those of a HAR file ordered by start. A packet capture cut
// short is imported up to the cut with a warning. It stops at the first
// error: a file that cannot be read (named in the error), a capture whose
// packets all have unsupported link types (*LinkError), an error from sink
// ("writing the recording: ..."), or ctx ending (an error matching
// context.Canceled); Stats then counts what was done.
func Import(ctx context.Context, cfg Config, inputs []Input, sink capture.Sink) (Stats, error) {
	p, err := newPipeline(cfg, sink)
	if err != nil {
		return Stats{}, err
	}
	for _, in := range inputs {
		if err := p.read(ctx, in); err != nil {
			_ = p.im.Close() // what the connections hold so far is written
			return p.stats(), err
		}
		p.st.Files++
		if err := capture.Flush(sink); err != nil {
			return p.stats(), fmt.Errorf("%w: %w", errSink, err)
		}
	}
	err = p.im.Close()
	return p.stats(), err
}

// errSink is matched by the errors of the sink.
var errSink = errors.New("writing the recording")

// pipeline is one Import or Capture.
type pipeline struct {
	cfg       Config
	sink      capture.Sink
	flushEach bool                  // flush the sink after every exchange
	group     *capture.GroupingSink // in front of write
	im        *packet.Importer      // for all packet captures, so connections span files
	st        Stats
}

// newPipeline sets up the importer, the grouping and the counting in front
// of sink.
func newPipeline(cfg Config, sink capture.Sink) (*pipeline, error) {
	if cfg.MaxBody == 0 {
		cfg.MaxBody = packet.DefaultMaxBody // for HAR files too
	}
	p := &pipeline{cfg: cfg, sink: sink}
	p.group = capture.NewGroupingSink(cfg.Group, capture.SinkFunc(p.write))
	im, err := packet.NewImporter(packet.Config{Ports: cfg.Ports, MaxBody: cfg.MaxBody}, p.group)
	if err != nil {
		return nil, err
	}
	p.im = im
	return p, nil
}

// write counts an exchange and writes it to the sink.
func (p *pipeline) write(e *capture.Exchange) error {
	err := p.sink.Write(e)
	if err == nil && p.flushEach {
		err = capture.Flush(p.sink)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errSink, err)
	}
	p.st.Requests++
	return nil
}

// stats is the Stats so far.
func (p *pipeline) stats() Stats {
	st := p.st
	st.Packets = p.im.Stats()
	st.Sessions = p.group.Sessions()
	return st
}

// warn gives a warning.
func (p *pipeline) warn(msg string) {
	p.st.Warnings = append(p.st.Warnings, msg)
	if p.cfg.Warn != nil {
		p.cfg.Warn(msg)
	}
}

// read imports one file.
func (p *pipeline) read(ctx context.Context, in Input) error {
	f, err := os.Open(in.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	cr := &countingReader{r: f}
	_, r, err := Detect(cr) // unwraps gzip
	if err != nil && !errors.Is(err, ErrUnknownFormat) {
		return fmt.Errorf("%s: %v", in.Path, err)
	}
	switch in.Format {
	case FormatHAR:
		return p.readHAR(in.Path, r)
	case FormatPcap, FormatPcapng:
		return p.readCapture(ctx, in, r, func() int64 { return cr.n }, size)
	case FormatRecording:
		return recordingError(in.Path)
	}
	return fmt.Errorf("%s: cannot import format %q", in.Path, in.Format)
}

// readHAR imports one HAR file.
func (p *pipeline) readHAR(path string, r io.Reader) error {
	st, err := har.Import(r, har.Config{Name: filepath.Base(path), MaxBody: p.cfg.MaxBody}, p.group)
	if err != nil {
		if errors.Is(err, errSink) {
			return err
		}
		return fmt.Errorf("%s: %v", path, err)
	}
	p.st.HARFiles++
	p.st.HAR.Entries += st.Entries
	p.st.HAR.Pages += st.Pages
	p.st.HAR.Exchanges += st.Exchanges
	p.st.HAR.NoResponse += st.NoResponse
	p.st.HAR.Skipped += st.Skipped
	if st.Skipped > 0 {
		p.warn(fmt.Sprintf("%s: skipped %d entries without method, absolute URL or start time", path, st.Skipped))
	}
	return nil
}

// readCapture imports one pcap or pcapng file; read says how many of its
// size bytes have been read.
func (p *pipeline) readCapture(ctx context.Context, in Input, r io.Reader, read func() int64, size int64) error {
	src, err := packet.NewSource(r, packet.Format(in.Format))
	if err != nil {
		return fmt.Errorf("%s: %v", in.Path, err)
	}
	before := p.im.Stats()
	err = p.im.Read(ctx, src, func() { p.progress(in.Path, read(), size) })
	after := p.im.Stats()
	switch {
	case errors.Is(err, packet.ErrTruncated):
		p.warn(fmt.Sprintf("%s: %v; imported the packets before it", in.Path, err))
	case errors.Is(err, context.Canceled), errors.Is(err, errSink):
		return err
	case err != nil:
		return fmt.Errorf("%s: %v", in.Path, err)
	}
	if n := after.Packets - before.Packets; n > 0 {
		var bad int64
		for k, v := range after.Unsupported {
			bad += v - before.Unsupported[k]
		}
		if bad == n {
			return &LinkError{Path: in.Path, Links: slices.Sorted(maps.Keys(after.Unsupported))}
		}
	} else if err == nil {
		p.warn(in.Path + ": no packets")
	}
	return nil
}

// progress reports progress, if asked to.
func (p *pipeline) progress(path string, read, size int64) {
	if p.cfg.Progress == nil {
		return
	}
	st := p.im.Stats()
	p.cfg.Progress(Progress{Path: path, Read: read, Size: size, Packets: st.Packets, Pairs: st.Pairs,
		Requests: p.st.Requests, Sessions: p.group.Sessions()})
}

// countingReader counts the bytes read from a file, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}
