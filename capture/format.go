package capture

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ampload/amp/internal/outfile"
	"github.com/vmihailenco/msgpack/v5"
)

// Version is the newest format version this package reads and the one it writes.
const Version = 2

// Magic is the first 8 bytes of every recording. The high first byte and the
// CR LF / ^Z / LF bytes catch files mangled by 7-bit or text-mode transfers.
const Magic = "\x89AMP\r\n\x1a\n"

// MaxRecordSize is the largest record payload accepted, in bytes. A frame that
// claims more is treated as corrupt.
const MaxRecordSize = 1 << 30

// Record kinds: the first byte of each record's payload.
const (
	kindHeader   = 'H'
	kindExchange = 'X'
	kindEnd      = 'E'
	// kindIndex ('I', the session index) is in index.go.
)

const (
	prefixSize      = int64(len(Magic) + 4) // magic and version
	frameHeaderSize = 8                     // length and checksum
	writeBufferSize = 64 << 10
)

// crcTable is read-only after initialisation.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrNotRecording reports a file that does not start with Magic.
var ErrNotRecording = errors.New("capture: not an amp recording")

// ErrTruncated is matched (errors.Is) by every *TruncatedError.
var ErrTruncated = errors.New("capture: truncated recording")

// ErrCorrupt is matched (errors.Is) by every *CorruptError.
var ErrCorrupt = errors.New("capture: corrupt recording")

// TruncatedError reports a recording that ends before its end marker: a crash,
// kill -9 or full disk while recording, or a partial copy. Every record before
// the cut has been read.
type TruncatedError struct {
	// Records is the number of exchange records read whole.
	Records int
	// Offset is the byte offset at which the data stops being usable.
	Offset int64
	// InHeader is set when the file ends before its header was complete.
	InHeader bool
	// Detail says what was cut.
	Detail string
}

// Error implements error.
func (e *TruncatedError) Error() string {
	if e.InHeader {
		return fmt.Sprintf("truncated recording: ends inside the file header (byte %d)", e.Offset)
	}
	return fmt.Sprintf("truncated after record %d (byte %d): %s", e.Records, e.Offset, e.Detail)
}

// Is makes errors.Is(err, ErrTruncated) true.
func (e *TruncatedError) Is(target error) bool { return target == ErrTruncated }

// CorruptError reports a record whose checksum or content is wrong. Records
// before it have been read; nothing after it is trusted.
type CorruptError struct {
	// Record is the 1-based number of the bad record (the header is record
	// 0), or -1 when it was read by offset (File.Session) and is not known.
	Record int
	// Offset is the byte offset of the bad record's frame.
	Offset int64
	// Detail says what is wrong.
	Detail string
}

// Error implements error.
func (e *CorruptError) Error() string {
	if e.Record < 0 { // found by offset, its number unknown
		return fmt.Sprintf("corrupt record at byte %d: %s", e.Offset, e.Detail)
	}
	return fmt.Sprintf("corrupt record %d at byte %d: %s", e.Record, e.Offset, e.Detail)
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// VersionError reports a recording written in a format version this package
// does not know.
type VersionError struct {
	// Version is the file's format version.
	Version uint32
}

// Error implements error.
func (e *VersionError) Error() string {
	if e.Version == 0 {
		return "recording format version 0 is invalid"
	}
	return fmt.Sprintf("recording format version %d is newer than this amp reads (%d): upgrade amp", e.Version, Version)
}

// FileHeader describes a recording as a whole. It is the first record of every
// file.
type FileHeader struct {
	// Source names what produced the recording: "proxy", "pcap", "har", ...
	Source string `msgpack:"source,omitempty"`
	// Created is when the recording was started.
	Created time.Time `msgpack:"-"`
	// Tool is the program and version that wrote the file, e.g. "amp v0.1.0".
	Tool string `msgpack:"tool,omitempty"`
	// Options records the settings the recording was made with (flag values).
	Options map[string]string `msgpack:"options,omitempty"`
	// Version is the file's format version; set by readers, ignored by writers.
	Version int `msgpack:"-"`
}

// wireHeader is FileHeader as encoded: times as Unix nanoseconds.
type wireHeader struct {
	FileHeader `msgpack:",inline"`
	CreatedNs  int64 `msgpack:"created,omitempty"`
}

// endRecord closes a file; its count lets readers check that nothing is missing.
type endRecord struct {
	Exchanges int `msgpack:"exchanges"`
	// Index is the offset of the session index record (version 2), or 0.
	Index int64 `msgpack:"index,omitempty"`
}

// Writer appends exchanges to a recording. It is safe for concurrent use.
//
// Writes go to a buffer; Flush hands the buffer to the operating system (one
// write call, cheap enough to do after every exchange, and enough for a kill -9
// of the recorder to lose nothing flushed), Sync also asks the OS to put it on
// disk, and Close writes the end marker, flushes and syncs.
type Writer struct {
	mu     sync.Mutex
	bw     *bufio.Writer
	dst    io.Writer
	closer io.Closer // closed by Close when the Writer opened the file
	rec    bytes.Buffer
	enc    *msgpack.Encoder
	n      int
	err    error // sticky: after a failed write the file is not extended
	closed bool
	off    int64             // bytes written, buffered included
	idx    indexBuilder      // the session index, written by Close
	extras map[string][]byte // SetIndexExtra
}

// NewWriter starts a recording on w with the given header. Close the Writer to
// mark the end of the recording; it does not close w.
func NewWriter(w io.Writer, h FileHeader) (*Writer, error) {
	cw := &Writer{dst: w, bw: bufio.NewWriterSize(w, writeBufferSize)}
	cw.enc = msgpack.NewEncoder(&cw.rec)
	cw.enc.UseCompactInts(true)

	var prefix [prefixSize]byte
	copy(prefix[:], Magic)
	binary.LittleEndian.PutUint32(prefix[len(Magic):], Version)
	if _, err := cw.bw.Write(prefix[:]); err != nil {
		return nil, err
	}
	cw.off = prefixSize
	wh := wireHeader{FileHeader: h}
	if !h.Created.IsZero() {
		wh.CreatedNs = h.Created.UnixNano()
	}
	if err := cw.writeRecord(kindHeader, func() error { return cw.enc.Encode(&wh) }); err != nil {
		return nil, err
	}
	if err := cw.bw.Flush(); err != nil {
		return nil, err
	}
	return cw, nil
}

// Create starts a new recording at path, readable by its owner only
// (recordings hold cookies and passwords). It never replaces a file: if path
// exists it fails with an error naming it and matching fs.ErrExist, and so it
// does if one appears there before Close. The recording is written to
// PartialPath(path), created exclusively, and Close renames it to path once
// it is complete, so path only ever holds a whole recording. Until then, and
// after a crash or kill -9, PartialPath(path) holds every exchange flushed,
// readable as a cut recording (ReadFile gives them with a *TruncatedError);
// Abort removes it.
func Create(path string, h FileHeader) (*Writer, error) {
	return create(path, false, h)
}

// Replace is Create that replaces a file at path when Close renames the
// recording onto it (amp record --force): what was there stays until then.
func Replace(path string, h FileHeader) (*Writer, error) {
	return create(path, true, h)
}

// PartialPath is where Create and Replace write the recording for path until
// Close: path + ".partial".
func PartialPath(path string) string { return path + ".partial" }

func create(path string, replace bool, h FileHeader) (*Writer, error) {
	if _, err := os.Lstat(path); err == nil && !replace {
		return nil, &existsError{path: path}
	}
	tmp := PartialPath(path)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, &existsError{path: tmp, partial: true}
	}
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(f, h)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	w.closer = &partialFile{f: f, path: path, replace: replace, w: w}
	return w, nil
}

// partialFile is the file a Create writes: Close (called by Writer.Close with
// the Writer's lock held) renames it onto its path once the recording is
// complete.
type partialFile struct {
	f       *os.File
	path    string
	replace bool
	w       *Writer
	done    bool // renamed or removed
}

func (p *partialFile) Close() error {
	err := p.f.Close()
	if p.w.err != nil || p.done { // a failed write: keep what the file holds
		return err
	}
	if err == nil {
		err = outfile.Place(p.f.Name(), p.path, p.replace)
	}
	p.done = err == nil
	return err // on error the recording stays in the partial file
}

// Abort ends a recording that Create or Replace started without completing
// it: it closes and removes PartialPath(path) and leaves path as it was. After
// a successful Close it does nothing; after a failed one it removes the
// partial file. A Writer made by NewWriter just stops writing.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	p, ok := w.closer.(*partialFile)
	if !ok || p.done {
		return nil
	}
	p.done = true
	_ = p.f.Close()
	return os.Remove(p.f.Name())
}

// existsError reports a recording's path, or its partial file, in the way.
type existsError struct {
	path    string
	partial bool
}

func (e *existsError) Error() string {
	if e.partial {
		return e.path + " exists: an amp writing this recording now, or one interrupted (it holds what was recorded: rename it to keep it, or remove it)"
	}
	return e.path + " already exists"
}

// Is makes errors.Is(err, fs.ErrExist) true.
func (e *existsError) Is(target error) bool { return target == fs.ErrExist }

// ReadHeader reads the file header of the recording at path.
func ReadHeader(path string) (FileHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileHeader{}, err
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		return FileHeader{}, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return r.Header(), nil
}

// Write appends one exchange to the buffer. Call Flush to hand it to the OS.
func (w *Writer) Write(e *Exchange) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	off := w.off
	if err := w.writeRecord(kindExchange, func() error { return encodeExchange(w.enc, e) }); err != nil {
		return err
	}
	w.idx.add(e.Session, sortKey(e.Start), off)
	w.n++
	return nil
}

// Count returns the number of exchanges written.
func (w *Writer) Count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Flush hands buffered records to the operating system.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	return w.flush()
}

// Sync flushes and, when the destination is a file, makes the OS write it to
// stable storage.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	return w.sync()
}

// Close writes the end marker, flushes, syncs, and closes the file if Create
// opened it. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.err
	if err == nil {
		err = w.writeIndexAndEnd()
	}
	if err == nil {
		err = w.sync()
	}
	if w.closer != nil {
		if cerr := w.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func (w *Writer) usable() error {
	if w.closed {
		return errors.New("capture: write to closed recording")
	}
	return w.err
}

func (w *Writer) flush() error {
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	return nil
}

func (w *Writer) sync() error {
	if err := w.flush(); err != nil {
		return err
	}
	if s, ok := w.dst.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// writeRecord frames the payload produced by encode (after the kind byte) and
// appends it to the buffer.
func (w *Writer) writeRecord(kind byte, encode func() error) error {
	w.rec.Reset()
	w.rec.WriteByte(kind)
	if err := encode(); err != nil {
		return fmt.Errorf("capture: encoding record: %w", err)
	}
	payload := w.rec.Bytes()
	if len(payload) > MaxRecordSize {
		return fmt.Errorf("capture: record of %d bytes exceeds the %d-byte limit", len(payload), MaxRecordSize)
	}
	var fh [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(fh[0:4], uint32(len(payload)))
	crc := crc32.Update(0, crcTable, fh[0:4])
	crc = crc32.Update(crc, crcTable, payload)
	binary.LittleEndian.PutUint32(fh[4:8], crc)
	if _, err := w.bw.Write(fh[:]); err != nil {
		w.err = err
		return err
	}
	if _, err := w.bw.Write(payload); err != nil {
		w.err = err
		return err
	}
	w.off += int64(frameHeaderSize + len(payload))
	return nil
}

// Reader reads the exchanges of a recording one by one.
type Reader struct {
	br      *bufio.Reader
	header  FileHeader
	id      string
	off     int64 // offset of the next unread byte
	n       int   // exchange records read
	last    int64 // offset of the frame of the exchange last returned
	records int   // records of any kind read, header included
	fh      [frameHeaderSize]byte
	buf     []byte
	payload bytes.Reader
	dec     *msgpack.Decoder
	err     error // sticky

	skip    bool     // ReadOptions.SkipDamaged
	damaged []Damage // what was skipped
	mem     []byte   // after the first damage: the rest of the file, from memBase
	memBase int64

	keysOnly bool        // decode only the session key and start (the index pass)
	at       *fileSource // when set, resync searches it in place (the index pass)
}

// ReadOptions change how a recording is read.
type ReadOptions struct {
	// SkipDamaged makes a damaged record (an impossible length, a checksum
	// mismatch or content that does not decode) no longer the end of the
	// reading: the reader looks for the next intact record, reads on from
	// there and lists what it skipped (Reader.Damaged). The file header
	// must be intact, and a file cut short still ends in a
	// *TruncatedError. A record is intact when its length fits the file
	// and its CRC-32C matches, so only a damaged stretch that happens to
	// hold a whole valid frame (a recording recorded as a body) could be
	// read as one. From the first damage on, the rest of the input is
	// held in memory to search it.
	SkipDamaged bool
}

// Damage is a stretch of a recording that a reader with SkipDamaged
// skipped.
type Damage struct {
	// Offset is the byte offset of the damaged record's frame.
	Offset int64
	// Length is the number of bytes skipped.
	Length int64
	// Detail says what was wrong, as a *CorruptError would.
	Detail string
}

// NewReader reads the prefix and header of a recording from r. It fails with
// ErrNotRecording, a *VersionError, a *TruncatedError or a *CorruptError.
func NewReader(r io.Reader) (*Reader, error) {
	return NewReaderOptions(r, ReadOptions{})
}

// NewReaderOptions is NewReader with options.
func NewReaderOptions(r io.Reader, opt ReadOptions) (*Reader, error) {
	rd := &Reader{br: bufio.NewReaderSize(r, writeBufferSize), dec: msgpack.NewDecoder(nil), skip: opt.SkipDamaged}
	var prefix [prefixSize]byte
	n, err := io.ReadFull(rd.br, prefix[:])
	if err != nil {
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, err
		}
		// Shorter than the prefix: a cut recording if what is there matches.
		m := min(n, len(Magic))
		if n == 0 || string(prefix[:m]) != Magic[:m] {
			return nil, fmt.Errorf("%w (the file is empty or too short)", ErrNotRecording)
		}
		return nil, &TruncatedError{InHeader: true, Offset: int64(n)}
	}
	if string(prefix[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w (unknown magic %q)", ErrNotRecording, prefix[:len(Magic)])
	}
	if v := binary.LittleEndian.Uint32(prefix[len(Magic):]); v == 0 || v > Version {
		return nil, &VersionError{Version: v}
	}
	rd.off = prefixSize
	kind, body, err := rd.readFrame()
	if err != nil {
		var te *TruncatedError
		if errors.As(err, &te) {
			te.InHeader = true
		}
		return nil, err
	}
	if kind != kindHeader {
		return nil, &CorruptError{Record: 0, Offset: prefixSize, Detail: "first record is not a file header"}
	}
	var wh wireHeader
	if err := msgpack.Unmarshal(body, &wh); err != nil {
		return nil, &CorruptError{Record: 0, Offset: prefixSize, Detail: "bad file header: " + err.Error()}
	}
	rd.header = wh.FileHeader
	if wh.CreatedNs != 0 {
		rd.header.Created = time.Unix(0, wh.CreatedNs).UTC()
	}
	rd.header.Version = int(binary.LittleEndian.Uint32(prefix[len(Magic):]))
	sum := sha256.Sum256(body)
	rd.id = hex.EncodeToString(sum[:8])
	rd.records = 1
	return rd, nil
}

// Header returns the recording's file header.
func (r *Reader) Header() FileHeader { return r.header }

// ID identifies the recording: a hash of its file header, which holds the
// time it was started to the nanosecond, its source and its options. Copies
// of a recording have the same ID; different recordings practically never.
func (r *Reader) ID() string { return r.id }

// Damaged lists the damaged stretches skipped so far (ReadOptions.SkipDamaged).
func (r *Reader) Damaged() []Damage { return slices.Clone(r.damaged) }

// Records returns the number of exchanges read so far.
func (r *Reader) Records() int { return r.n }

// Next returns the next exchange. At the end marker it returns io.EOF. A file
// cut short gives a *TruncatedError and a damaged record a *CorruptError; both
// come after every whole record before them has been returned, and the Reader
// stays at that error.
func (r *Reader) Next() (*Exchange, error) {
	e := new(Exchange)
	if err := r.ReadExchange(e); err != nil {
		return nil, err
	}
	return e, nil
}

// ReadExchange is Next decoding into e, which it zeroes first.
func (r *Reader) ReadExchange(e *Exchange) error {
	for r.err == nil {
		start := r.off
		kind, body, err := r.readFrame()
		if err != nil {
			if r.skip && r.resync(start, err) {
				continue
			}
			r.err = err
			break
		}
		r.records++
		switch kind {
		case kindExchange:
			*e = Exchange{}
			r.payload.Reset(body)
			r.dec.ResetReader(&r.payload)
			decode := decodeExchange
			if r.keysOnly {
				decode = decodeSessionStart
			}
			if err := decode(r.dec, e, len(body)); err != nil {
				if r.skip { // the frame is whole: the next one follows it
					r.damaged = append(r.damaged, Damage{Offset: start, Length: r.off - start, Detail: "bad exchange: " + err.Error()})
					continue
				}
				r.err = &CorruptError{Record: r.records - 1, Offset: start, Detail: "bad exchange: " + err.Error()}
				break
			}
			r.n++
			r.last = start
			return nil
		case kindIndex:
			// The session index (File reads it): nothing to return.
		case kindEnd:
			var end endRecord
			if err := msgpack.Unmarshal(body, &end); err != nil {
				r.err = &CorruptError{Record: r.records - 1, Offset: start, Detail: "bad end marker: " + err.Error()}
			} else if len(r.damaged) > 0 && end.Exchanges > r.n {
				r.err = io.EOF // the missing ones are the damaged records skipped
			} else if end.Exchanges != r.n {
				r.err = &CorruptError{Record: r.records - 1, Offset: start,
					Detail: fmt.Sprintf("end marker counts %d exchanges, file holds %d", end.Exchanges, r.n)}
			} else {
				r.err = io.EOF
			}
		case kindHeader:
			r.err = &CorruptError{Record: r.records - 1, Offset: start, Detail: "a second file header"}
		default:
			// A record kind from a newer writer of the same version: skip it.
		}
	}
	return r.err
}

// resync handles the damaged frame at start that readFrame reported with
// err: it finds the next intact frame, records the damage and positions the
// reader there. It returns false when err is not damage (a read error, or a
// file cut short with nothing intact after the cut), leaving err to report.
func (r *Reader) resync(start int64, err error) bool {
	var ce *CorruptError
	var te *TruncatedError
	switch {
	case errors.As(err, &ce):
	case errors.As(err, &te) && strings.HasPrefix(te.Detail, "cut inside a record ("):
		// A damaged length can claim more than the file holds.
	default:
		return false
	}
	if r.at != nil {
		return r.resyncAt(start, err, ce)
	}
	if r.mem == nil {
		// Random access from here on: what the bad frame took, and the rest.
		rest, rerr := io.ReadAll(r.br)
		if rerr != nil {
			return false
		}
		r.mem = slices.Concat(r.fh[:], r.buf, rest)
		r.memBase = start
	}
	from := int(start - r.memBase)
	next := -1
	// Most damage is inside a payload whose length is intact.
	if size := int64(binary.LittleEndian.Uint32(r.fh[0:4])); ce != nil && size > 0 && size <= MaxRecordSize {
		if p := int64(from) + frameHeaderSize + size; p < int64(len(r.mem)) && intactFrame(r.mem, int(p)) {
			next = int(p)
		}
	}
	for p := from + 1; next < 0 && p+frameHeaderSize < len(r.mem); p++ {
		if intactFrame(r.mem, p) {
			next = p
		}
	}
	if next < 0 {
		if te != nil {
			return false // cut short, not damaged
		}
		next = len(r.mem) // damaged to the end: no end marker follows
	}
	detail := err.Error()
	if ce != nil {
		detail = ce.Detail
	}
	r.damaged = append(r.damaged, Damage{Offset: start, Length: int64(next - from), Detail: detail})
	r.records++ // the damaged record, so that numbers stay those of the file
	r.off = r.memBase + int64(next)
	r.br = bufio.NewReaderSize(bytes.NewReader(r.mem[next:]), writeBufferSize)
	return true
}

// intactFrame reports whether data holds an exchange, index or end record frame at
// p whose length fits and whose checksum matches.
func intactFrame(data []byte, p int) bool {
	if p+frameHeaderSize >= len(data) {
		return false
	}
	size := int(binary.LittleEndian.Uint32(data[p : p+4]))
	end := p + frameHeaderSize + size
	if size == 0 || end > len(data) || end < 0 {
		return false
	}
	if k := data[p+frameHeaderSize]; k != kindExchange && k != kindEnd && k != kindIndex {
		return false
	}
	crc := crc32.Update(0, crcTable, data[p:p+4])
	crc = crc32.Update(crc, crcTable, data[p+frameHeaderSize:end])
	return crc == binary.LittleEndian.Uint32(data[p+4:p+8])
}

// readFrame reads one framed record and checks its checksum. It returns the
// record kind and the payload after it; the payload is valid until the next call.
func (r *Reader) readFrame() (byte, []byte, error) {
	start := r.off
	r.buf = r.buf[:0]
	fh := r.fh[:]
	clear(fh)
	n, err := io.ReadFull(r.br, fh[:])
	r.off += int64(n)
	if err != nil {
		if err == io.EOF {
			return 0, nil, &TruncatedError{Records: r.n, Offset: start, Detail: "no end marker (the recorder did not finish)"}
		}
		if err == io.ErrUnexpectedEOF {
			return 0, nil, &TruncatedError{Records: r.n, Offset: start, Detail: "cut inside a record header"}
		}
		return 0, nil, err
	}
	size := binary.LittleEndian.Uint32(fh[0:4])
	if size == 0 || size > MaxRecordSize {
		return 0, nil, &CorruptError{Record: r.records, Offset: start, Detail: fmt.Sprintf("impossible record length %d", size)}
	}
	if err := r.readPayload(int(size)); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return 0, nil, &TruncatedError{Records: r.n, Offset: start,
				Detail: fmt.Sprintf("cut inside a record (%d of %d bytes)", len(r.buf), size)}
		}
		return 0, nil, err
	}
	crc := crc32.Update(0, crcTable, fh[0:4])
	crc = crc32.Update(crc, crcTable, r.buf)
	if crc != binary.LittleEndian.Uint32(fh[4:8]) {
		return 0, nil, &CorruptError{Record: r.records, Offset: start, Detail: "checksum mismatch"}
	}
	return r.buf[0], r.buf[1:], nil
}

// readPayload reads size bytes into r.buf, growing it only as data arrives, so
// that a corrupt length cannot make the reader allocate what the file lacks.
func (r *Reader) readPayload(size int) error {
	r.buf = r.buf[:0]
	for len(r.buf) < size {
		have, chunk := len(r.buf), size-len(r.buf)
		if cap(r.buf) < size {
			chunk = min(chunk, max(have, writeBufferSize))
			r.buf = slices.Grow(r.buf, chunk)
		}
		n, err := io.ReadFull(r.br, r.buf[have:have+chunk])
		r.buf = r.buf[:have+n]
		r.off += int64(n)
		if err != nil {
			if err == io.EOF && len(r.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// Recording is a whole recording in memory: its header and its sessions.
type Recording struct {
	// Header is the file header.
	Header FileHeader
	// ID identifies the recording (see Reader.ID).
	ID string
	// Sessions are the recording's sessions ordered by start.
	Sessions []*Session
	// Damaged lists the damaged stretches skipped (ReadOptions.SkipDamaged).
	Damaged []Damage
}

// Exchanges returns the number of exchanges in all sessions.
func (rec *Recording) Exchanges() int {
	n := 0
	for _, s := range rec.Sessions {
		n += len(s.Exchanges)
	}
	return n
}

// Read reads a whole recording from r and groups its exchanges into sessions.
// When the data is truncated or corrupt it returns what came before together
// with the *TruncatedError or *CorruptError, so callers can warn and go on.
func Read(r io.Reader) (*Recording, error) {
	return ReadWith(r, ReadOptions{})
}

// ReadWith is Read with options: with SkipDamaged, damaged records are
// skipped and listed in Recording.Damaged.
func ReadWith(r io.Reader, opt ReadOptions) (*Recording, error) {
	rd, err := NewReaderOptions(r, opt)
	if err != nil {
		return nil, err
	}
	var exs []*Exchange
	for {
		e, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &Recording{Header: rd.Header(), ID: rd.ID(), Sessions: GroupSessions(exs), Damaged: rd.Damaged()}, err
		}
		exs = append(exs, e)
	}
	return &Recording{Header: rd.Header(), ID: rd.ID(), Sessions: GroupSessions(exs), Damaged: rd.Damaged()}, nil
}

// ReadFile reads the recording at path; see Read for partial results. Errors
// name the file.
func ReadFile(path string) (*Recording, error) {
	return ReadFileWith(path, ReadOptions{})
}

// ReadFileWith is ReadFile with options (see ReadWith).
func ReadFileWith(path string, opt ReadOptions) (*Recording, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rec, err := ReadWith(f, opt)
	if err != nil {
		err = &os.PathError{Op: "read", Path: path, Err: err}
	}
	return rec, err
}

// GroupSessions groups exchanges by their Session key. Sessions are ordered by
// their first exchange's start (then by key) and exchanges within a session by
// start, keeping the file order of equal starts.
func GroupSessions(exs []*Exchange) []*Session {
	byKey := make(map[string]*Session)
	var out []*Session
	for _, e := range exs {
		s := byKey[e.Session]
		if s == nil {
			s = &Session{ID: e.Session}
			byKey[e.Session] = s
			out = append(out, s)
		}
		s.Exchanges = append(s.Exchanges, e)
	}
	for _, s := range out {
		sort.SliceStable(s.Exchanges, func(i, j int) bool { return s.Exchanges[i].Start.Before(s.Exchanges[j].Start) })
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Start(), out[j].Start()
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].ID < out[j].ID
	})
	return out
}
