package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// The session index: one record of kind 'I' before the end marker of every
// version-2 recording, and the body of a NAME.amp.idx file beside an older
// or cut recording. Its body (after the kind byte) is
//
//	index   = format sessions exchanges session* extras extra*
//	format  = uvarint 1
//	sessions, exchanges, extras = uvarint counts
//	session = key name start count offsets
//	key, name = uvarint length, bytes
//	start   = varint (zigzag) Unix ns of the first exchange; math.MinInt64 for the zero time
//	count   = uvarint, >= 1
//	offsets = uvarint length, then uvarint offset of the first record and
//	          varint (zigzag) differences to each next one
//	extra   = uvarint length, name bytes, uvarint length, value bytes
//
// Sessions come in the order GroupSessions gives (first start, then key) and
// each session's offsets in the order of its exchanges (start, then file
// order). An offset is that of the exchange record's frame.
const (
	kindIndex   = 'I'
	indexFormat = 1

	// sidecar files: magic, uint32 version, a 'M' meta record, an 'I' record
	sidecarMagic   = "\x89AMI\r\n\x1a\n"
	sidecarVersion = 1
	kindMeta       = 'M'

	tailCheckSize = 4096 // bytes at the end of a recording a sidecar checks
	spotChecks    = 8    // sessions whose first record Open reads back
	progressStep  = 1 << 20
)

// sortKey is the value the index orders exchange starts by: what the file
// holds (Unix nanoseconds), and the lowest value for the zero time, which the
// format does not store.
func sortKey(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return t.UnixNano()
}

func keyTime(k int64) time.Time {
	if k == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, k).UTC()
}

// indexBuilder collects the offsets of the exchange records of each session
// as they are written or read: per exchange a few bytes (the varint
// differences of its offset and start to the previous one of its session).
type indexBuilder struct {
	byKey map[string]*sessionAcc
	list  []*sessionAcc
	n     int
}

type sessionAcc struct {
	key, name          string
	n                  int
	buf                []byte // pairs of varints: offset and start differences
	lastOff, lastStart int64
}

func (b *indexBuilder) session(key string) *sessionAcc {
	if b.byKey == nil {
		b.byKey = make(map[string]*sessionAcc)
	}
	s := b.byKey[key]
	if s == nil {
		s = &sessionAcc{key: strings.Clone(key)}
		b.byKey[s.key] = s
		b.list = append(b.list, s)
	}
	return s
}

// add notes an exchange of session key starting at start (a sortKey) whose
// record's frame is at off.
func (b *indexBuilder) add(key string, start, off int64) {
	s := b.session(key)
	s.buf = binary.AppendVarint(s.buf, off-s.lastOff)
	s.buf = binary.AppendVarint(s.buf, start-s.lastStart)
	s.lastOff, s.lastStart = off, start
	s.n++
	b.n++
}

// encode returns the index body (without the kind byte).
func (b *indexBuilder) encode(extras map[string][]byte) []byte {
	type entry struct {
		acc   *sessionAcc
		first int64
		blob  []byte
	}
	type pair struct{ off, start int64 }
	var entries []entry
	var pairs []pair
	for _, s := range b.list {
		if s.n == 0 {
			continue
		}
		pairs = pairs[:0]
		var off, start int64
		for p := s.buf; len(p) > 0; {
			d, n := binary.Varint(p)
			p = p[n:]
			off += d
			d, n = binary.Varint(p)
			p = p[n:]
			start += d
			pairs = append(pairs, pair{off, start})
		}
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].start < pairs[j].start })
		blob := binary.AppendUvarint(nil, uint64(pairs[0].off))
		for i := 1; i < len(pairs); i++ {
			blob = binary.AppendVarint(blob, pairs[i].off-pairs[i-1].off)
		}
		entries = append(entries, entry{acc: s, first: pairs[0].start, blob: blob})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		if entries[i].first != entries[j].first {
			return entries[i].first < entries[j].first
		}
		return entries[i].acc.key < entries[j].acc.key
	})
	out := binary.AppendUvarint(nil, indexFormat)
	out = binary.AppendUvarint(out, uint64(len(entries)))
	out = binary.AppendUvarint(out, uint64(b.n))
	for _, e := range entries {
		out = appendSession(out, e.acc.key, e.acc.name, e.first, e.acc.n, e.blob)
	}
	return appendExtras(out, extras)
}

func appendSession(out []byte, key, name string, start int64, n int, blob []byte) []byte {
	out = appendString(out, key)
	out = appendString(out, name)
	out = binary.AppendVarint(out, start)
	out = binary.AppendUvarint(out, uint64(n))
	out = binary.AppendUvarint(out, uint64(len(blob)))
	return append(out, blob...)
}

func appendExtras(out []byte, extras map[string][]byte) []byte {
	names := make([]string, 0, len(extras))
	for k := range extras {
		names = append(names, k)
	}
	sort.Strings(names)
	out = binary.AppendUvarint(out, uint64(len(names)))
	for _, k := range names {
		out = appendString(out, k)
		out = appendString(out, string(extras[k]))
	}
	return out
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// SessionInfo describes one session as the index lists it, without its
// exchanges.
type SessionInfo struct {
	// ID is the session key shared by its exchanges.
	ID string
	// Name is a readable name for the session; "" unless a writer gave one
	// (Writer.NameSession).
	Name string
	// Start is the start of the session's first exchange.
	Start time.Time
	// Exchanges is the number of exchanges of the session.
	Exchanges int
}

// index is a decoded session index. Offsets stay varint-encoded in raw.
type index struct {
	sessions  []SessionInfo
	blobs     []int // where session i's offsets start in raw
	raw       []byte
	exchanges int
	extras    map[string][]byte

	minOff, maxOff int64  // of all offsets
	sum            uint64 // order-independent hash of the offsets (offsetHash)
}

// offsetHash mixes one offset for an order-independent sum (splitmix64's
// finaliser), so that a walk over the records can check the set of offsets.
func offsetHash(off int64) uint64 {
	z := uint64(off) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// indexReader reads the fields of an index body and keeps the first error.
type indexReader struct {
	b   []byte
	p   int
	err error
}

func (r *indexReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("capture: bad session index at byte %d: %s", r.p, fmt.Sprintf(format, args...))
	}
}

func (r *indexReader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.p:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.p += n
	return v
}

func (r *indexReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.p:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	r.p += n
	return v
}

// bytes returns the next length-prefixed field as a slice of the body.
func (r *indexReader) bytes(what string) []byte {
	n := r.uvarint(what) // its length
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.p) {
		r.fail("%s of %d bytes exceeds the index", what, n)
		return nil
	}
	out := r.b[r.p : r.p+int(n)]
	r.p += int(n)
	return out
}

// decodeIndex decodes an index body. Every offset must lie in [lo, hi): the
// records between the file header and the end of the data. It checks the
// structure, the counts and the session order; not that the offsets point
// at the right records (File.check does, cheaply).
func decodeIndex(body []byte, lo, hi int64) (*index, error) {
	r := &indexReader{b: body}
	if f := r.uvarint("format"); r.err == nil && f != indexFormat {
		return nil, fmt.Errorf("capture: session index format %d is unknown", f)
	}
	ns := r.uvarint("session count")
	nx := r.uvarint("exchange count")
	if r.err == nil && (ns > uint64(len(body)) || nx > uint64(len(body)) || ns > nx) {
		r.fail("counts %d sessions, %d exchanges in %d bytes", ns, nx, len(body))
	}
	if r.err != nil {
		return nil, r.err
	}
	x := &index{sessions: make([]SessionInfo, 0, ns), blobs: make([]int, 0, ns), raw: body, exchanges: int(nx),
		minOff: math.MaxInt64, maxOff: -1}
	total := 0
	var prevStart int64
	var prevKey []byte
	for i := 0; i < int(ns) && r.err == nil; i++ {
		key := r.bytes("session key")
		name := r.bytes("session name")
		start := r.varint("session start")
		count := r.uvarint("exchange count of a session")
		blob := r.bytes("offsets")
		if r.err != nil {
			break
		}
		if count == 0 || count > uint64(len(blob)) {
			r.fail("session %d claims %d exchanges in %d bytes of offsets", i, count, len(blob))
			break
		}
		if i > 0 && (start < prevStart || start == prevStart && string(key) <= string(prevKey)) {
			r.fail("session %d is out of order", i)
			break
		}
		prevStart, prevKey = start, key
		if err := x.scanOffsets(blob, int(count), lo, hi); err != nil {
			r.fail("session %d: %v", i, err)
			break
		}
		total += int(count)
		x.sessions = append(x.sessions, SessionInfo{ID: string(key), Name: string(name), Start: keyTime(start), Exchanges: int(count)})
		x.blobs = append(x.blobs, r.p-len(blob))
	}
	if r.err == nil && total != int(nx) {
		r.fail("sessions hold %d exchanges, the index counts %d", total, nx)
	}
	if r.err == nil {
		// Keys are unique (GroupSessions would merge two): sort positions
		// by key, 4 bytes a session, and compare neighbours.
		byKey := make([]int32, len(x.sessions))
		for i := range byKey {
			byKey[i] = int32(i)
		}
		slices.SortFunc(byKey, func(a, b int32) int { return strings.Compare(x.sessions[a].ID, x.sessions[b].ID) })
		for i := 1; i < len(byKey); i++ {
			if x.sessions[byKey[i]].ID == x.sessions[byKey[i-1]].ID {
				r.fail("session key %q appears twice", x.sessions[byKey[i]].ID)
				break
			}
		}
	}
	ne := r.uvarint("extra count")
	if r.err == nil && ne > uint64(len(body)) {
		r.fail("claims %d extras", ne)
	}
	for i := 0; i < int(ne) && r.err == nil; i++ {
		k := r.bytes("extra name")
		v := r.bytes("extra value")
		if r.err == nil {
			if x.extras == nil {
				x.extras = make(map[string][]byte)
			}
			x.extras[string(k)] = v
		}
	}
	if r.err == nil && r.p != len(body) {
		r.fail("%d bytes after the end", len(body)-r.p)
	}
	if r.err != nil {
		return nil, r.err
	}
	return x, nil
}

// scanOffsets checks count offsets in blob against [lo, hi) and adds them to
// the index's range and hash.
func (x *index) scanOffsets(blob []byte, count int, lo, hi int64) error {
	var off int64
	for k := 0; k < count; k++ {
		if k == 0 {
			v, n := binary.Uvarint(blob)
			if n <= 0 || v > math.MaxInt64 {
				return errors.New("bad first offset")
			}
			off, blob = int64(v), blob[n:]
		} else {
			d, n := binary.Varint(blob)
			if n <= 0 {
				return errors.New("bad offset")
			}
			off, blob = off+d, blob[n:]
		}
		if off < lo || off >= hi {
			return fmt.Errorf("offset %d outside the records (%d..%d)", off, lo, hi)
		}
		x.minOff = min(x.minOff, off)
		x.maxOff = max(x.maxOff, off)
		x.sum += offsetHash(off)
	}
	if len(blob) != 0 {
		return errors.New("offsets longer than their count")
	}
	return nil
}

// encode returns the index body again, with names (by session key)
// replacing those of the index and extras instead of its own.
func (x *index) encode(names map[string]string, extras map[string][]byte) []byte {
	out := binary.AppendUvarint(nil, indexFormat)
	out = binary.AppendUvarint(out, uint64(len(x.sessions)))
	out = binary.AppendUvarint(out, uint64(x.exchanges))
	for i, s := range x.sessions {
		name, ok := names[s.ID]
		if !ok {
			name = s.Name
		}
		p := x.raw[x.blobs[i]:]
		end := 0
		for k := 0; k < s.Exchanges; k++ {
			_, n := binary.Uvarint(p[end:]) // a varint's length does not depend on its sign encoding
			end += n
		}
		out = appendSession(out, s.ID, name, sortKey(s.Start), s.Exchanges, p[:end])
	}
	return appendExtras(out, extras)
}

// offsets returns the record offsets of session i.
func (x *index) offsets(i int) []int64 {
	n := x.sessions[i].Exchanges
	out := make([]int64, n)
	p := x.raw[x.blobs[i]:]
	v, m := binary.Uvarint(p)
	out[0], p = int64(v), p[m:]
	for k := 1; k < n; k++ {
		d, m := binary.Varint(p)
		out[k], p = out[k-1]+d, p[m:]
	}
	return out
}

// writeIndexAndEnd writes the session index and the end marker (Close).
// An index too big for a record is left out: readers then rebuild it.
func (w *Writer) writeIndexAndEnd() error {
	end := endRecord{Exchanges: w.n}
	if body := w.idx.encode(w.extras); len(body)+1 <= MaxRecordSize {
		end.Index = w.off
		if err := w.writeRecord(kindIndex, func() error { _, err := w.rec.Write(body); return err }); err != nil {
			return err
		}
	}
	return w.writeRecord(kindEnd, func() error { return w.enc.Encode(&end) })
}

// NameSession gives the session with key a readable name, kept in the
// recording's index (SessionInfo.Name). The last name given wins.
func (w *Writer) NameSession(key, name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.idx.session(key).name = strings.Clone(name)
}

// SetIndexExtra keeps value under name in the recording's index, for
// readers that learn something once per recording (File.Extra).
func (w *Writer) SetIndexExtra(name string, value []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.extras == nil {
		w.extras = make(map[string][]byte)
	}
	w.extras[name] = bytes.Clone(value)
}

// sidecarMeta is the 'M' record of a NAME.amp.idx file: which recording the
// index belongs to and how its reading ended.
type sidecarMeta struct {
	Size    int64    `msgpack:"size"`    // of the recording
	ID      string   `msgpack:"id"`      // Reader.ID
	Tail    uint32   `msgpack:"tail"`    // CRC-32C of its last tailCheckSize bytes
	Lo      int64    `msgpack:"lo"`      // first byte after the file header
	End     int64    `msgpack:"end"`     // end of the last record read
	Skip    bool     `msgpack:"skip"`    // read with SkipDamaged
	Damaged []Damage `msgpack:"damaged"` // what the reading skipped
	// How the reading ended: "" (at the end marker), "truncated" or "corrupt".
	Stop     string `msgpack:"stop,omitempty"`
	Records  int    `msgpack:"records,omitempty"`
	Record   int    `msgpack:"record,omitempty"`
	Offset   int64  `msgpack:"offset,omitempty"`
	InHeader bool   `msgpack:"in_header,omitempty"`
	Detail   string `msgpack:"detail,omitempty"`
}

// stopError returns the error the reading ended with, as the Reader gave it.
func (m *sidecarMeta) stopError() error {
	switch m.Stop {
	case "truncated":
		return &TruncatedError{Records: m.Records, Offset: m.Offset, InHeader: m.InHeader, Detail: m.Detail}
	case "corrupt":
		return &CorruptError{Record: m.Record, Offset: m.Offset, Detail: m.Detail}
	}
	return nil
}

// setStop records how a reading ended; false for an error that is not about
// the data (a read error), which is not worth saving.
func (m *sidecarMeta) setStop(err error) bool {
	var te *TruncatedError
	var ce *CorruptError
	switch {
	case err == nil:
	case errors.As(err, &te):
		m.Stop, m.Records, m.Offset, m.InHeader, m.Detail = "truncated", te.Records, te.Offset, te.InHeader, te.Detail
	case errors.As(err, &ce):
		m.Stop, m.Record, m.Offset, m.Detail = "corrupt", ce.Record, ce.Offset, ce.Detail
	default:
		return false
	}
	return true
}

// tailCRC is the CRC-32C of the last tailCheckSize bytes of the file.
func tailCRC(f io.ReaderAt, size int64) (uint32, error) {
	n := min(size, tailCheckSize)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return 0, err
	}
	return crc32.Checksum(buf, crcTable), nil
}

// SidecarPath returns where the index of the recording at path is saved
// when the recording holds none: path + ".idx".
func SidecarPath(path string) string { return path + ".idx" }

// encodeSidecar returns the bytes of a NAME.amp.idx file.
func encodeSidecar(meta *sidecarMeta, body []byte) ([]byte, error) {
	mb, err := msgpack.Marshal(meta)
	if err != nil {
		return nil, err
	}
	if len(body)+1 > MaxRecordSize {
		return nil, errors.New("the index is too big for a record")
	}
	out := append([]byte(sidecarMagic), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(out[len(sidecarMagic):], sidecarVersion)
	out = appendFrame(out, kindMeta, mb)
	return appendFrame(out, kindIndex, body), nil
}

func appendFrame(out []byte, kind byte, body []byte) []byte {
	var fh [frameHeaderSize]byte
	binary.LittleEndian.PutUint32(fh[0:4], uint32(len(body)+1))
	crc := crc32.Update(0, crcTable, fh[0:4])
	crc = crc32.Update(crc, crcTable, []byte{kind})
	crc = crc32.Update(crc, crcTable, body)
	binary.LittleEndian.PutUint32(fh[4:8], crc)
	out = append(out, fh[:]...)
	out = append(out, kind)
	return append(out, body...)
}

// splitFrame checks the frame at the start of data and returns its kind,
// body and the rest of data.
func splitFrame(data []byte) (byte, []byte, []byte, error) {
	if len(data) < frameHeaderSize+1 {
		return 0, nil, nil, errors.New("cut short")
	}
	size := int64(binary.LittleEndian.Uint32(data[0:4]))
	if size == 0 || size > int64(len(data)-frameHeaderSize) {
		return 0, nil, nil, fmt.Errorf("impossible record length %d", size)
	}
	crc := crc32.Update(0, crcTable, data[0:4])
	crc = crc32.Update(crc, crcTable, data[frameHeaderSize:frameHeaderSize+size])
	if crc != binary.LittleEndian.Uint32(data[4:8]) {
		return 0, nil, nil, errors.New("checksum mismatch")
	}
	return data[frameHeaderSize], data[frameHeaderSize+1 : frameHeaderSize+size], data[frameHeaderSize+size:], nil
}

// decodeSidecar reads the meta record and the index body of a NAME.amp.idx
// file; the index body is decoded by the caller, who knows the range.
func decodeSidecar(data []byte) (*sidecarMeta, []byte, error) {
	if len(data) < len(sidecarMagic)+4 || string(data[:len(sidecarMagic)]) != sidecarMagic {
		return nil, nil, errors.New("not an amp index file")
	}
	if v := binary.LittleEndian.Uint32(data[len(sidecarMagic):]); v != sidecarVersion {
		return nil, nil, fmt.Errorf("index file version %d is unknown", v)
	}
	kind, mb, rest, err := splitFrame(data[len(sidecarMagic)+4:])
	if err != nil || kind != kindMeta {
		return nil, nil, fmt.Errorf("bad index file: first record: %v", err)
	}
	var meta sidecarMeta
	if err := msgpack.Unmarshal(mb, &meta); err != nil {
		return nil, nil, fmt.Errorf("bad index file: %w", err)
	}
	kind, body, rest, err := splitFrame(rest)
	if err != nil || kind != kindIndex || len(rest) != 0 {
		return nil, nil, fmt.Errorf("bad index file: index record: %v", err)
	}
	return &meta, body, nil
}

// saveSidecar writes data to target atomically (a temporary file in the same
// directory, renamed), readable by its owner only. It never replaces a file
// that is not an amp index. It does not sync: a sidecar lost or cut by a
// crash fails its checks and is built again.
func saveSidecar(target string, data []byte) error {
	if st, err := os.Lstat(target); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%s exists and is not a regular file", target)
		}
		head := make([]byte, len(sidecarMagic))
		f, err := os.Open(target)
		if err != nil {
			return err
		}
		_, err = io.ReadFull(f, head)
		f.Close()
		if err != nil || string(head) != sidecarMagic {
			return fmt.Errorf("%s exists and is not an amp index: left as it is", target)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// progressReader counts the bytes read through it and reports them.
type progressReader struct {
	r           io.Reader
	done, total int64
	next        int64
	reported    int64
	fn          func(done, total int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.fn != nil && (p.done >= p.next || p.done == p.total) && p.done != p.reported {
		p.reported = p.done
		p.fn(p.done, p.total)
		p.next = p.done + max(progressStep, p.total/200)
	}
	return n, err
}

// fileSource reads a file from a position that a Reader's resync may move
// (Reader.at), reporting progress as the position.
type fileSource struct {
	ra       io.ReaderAt
	pos      int64
	size     int64
	next     int64
	reported int64
	fn       func(done, total int64)
}

func (s *fileSource) Read(b []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), s.size-s.pos)]
	n, err := s.ra.ReadAt(b, s.pos)
	if err == io.EOF && n > 0 {
		err = nil
	}
	s.pos += int64(n)
	if s.fn != nil && (s.pos >= s.next || s.pos == s.size) && s.pos != s.reported {
		s.reported = s.pos
		s.fn(s.pos, s.size)
		s.next = s.pos + max(progressStep, s.size/200)
	}
	return n, err
}

// resyncAt is resync for a Reader of a file: it searches the file for the
// next intact frame by reading it in place, not holding the rest of it in
// memory, and moves the reader there.
func (r *Reader) resyncAt(start int64, err error, ce *CorruptError) bool {
	size := r.at.size
	next := int64(-1)
	// Most damage is inside a payload whose length is intact.
	if n := int64(binary.LittleEndian.Uint32(r.fh[0:4])); ce != nil && n > 0 && n <= MaxRecordSize {
		if p := start + frameHeaderSize + n; p < size && intactAt(r.at.ra, p, size) {
			next = p
		}
	}
	if next < 0 {
		next = scanIntact(r.at.ra, start+1, size)
	}
	if next < 0 {
		if ce == nil {
			return false // cut short, not damaged
		}
		next = size // damaged to the end: no end marker follows
	}
	detail := err.Error()
	if ce != nil {
		detail = ce.Detail
	}
	r.damaged = append(r.damaged, Damage{Offset: start, Length: next - start, Detail: detail})
	r.records++ // the damaged record, so that numbers stay those of the file
	r.off = next
	r.at.pos = next
	r.br.Reset(r.at)
	return true
}

// resyncKind reports whether a damaged reading may resume at a record of
// kind k (intactFrame).
func resyncKind(k byte) bool { return k == kindExchange || k == kindEnd || k == kindIndex }

// intactAt is intactFrame for a file of size bytes read in place.
func intactAt(ra io.ReaderAt, p, size int64) bool {
	if p+frameHeaderSize >= size {
		return false
	}
	var fh [frameHeaderSize + 1]byte
	if _, err := ra.ReadAt(fh[:], p); err != nil {
		return false
	}
	n := int64(binary.LittleEndian.Uint32(fh[0:4]))
	if n == 0 || p+frameHeaderSize+n > size || !resyncKind(fh[frameHeaderSize]) {
		return false
	}
	crc := crc32.Update(0, crcTable, fh[0:4])
	buf := make([]byte, min(n, writeBufferSize))
	for off := p + frameHeaderSize; off < p+frameHeaderSize+n; {
		b := buf[:min(int64(len(buf)), p+frameHeaderSize+n-off)]
		if _, err := ra.ReadAt(b, off); err != nil {
			return false
		}
		crc = crc32.Update(crc, crcTable, b)
		off += int64(len(b))
	}
	return crc == binary.LittleEndian.Uint32(fh[4:8])
}

// scanIntact returns the first position from from on where intactAt holds,
// or -1, reading the file a window at a time.
func scanIntact(ra io.ReaderAt, from, size int64) int64 {
	win := make([]byte, writeBufferSize+frameHeaderSize+1)
	for p := from; p+frameHeaderSize < size; {
		w := win[:min(int64(len(win)), size-p)]
		if _, err := ra.ReadAt(w, p); err != nil {
			return -1
		}
		last := len(w) - frameHeaderSize - 1 // the last position whose header and kind are in w
		for i := 0; i <= last; i++ {
			n := int64(binary.LittleEndian.Uint32(w[i:]))
			q := p + int64(i)
			if n == 0 || q+frameHeaderSize+n > size || !resyncKind(w[i+frameHeaderSize]) {
				continue
			}
			if intactAt(ra, q, size) {
				return q
			}
		}
		p += int64(last + 1)
	}
	return -1
}

// rebuild reads the whole recording once, as ReadWith does, and builds its
// index. It returns the index body, the meta of a sidecar and the error the
// reading ended with (nil at the end marker).
func rebuild(f io.ReaderAt, size int64, opt OpenOptions) ([]byte, *sidecarMeta, error) {
	pr := &fileSource{ra: f, size: size, fn: opt.Progress}
	rd, err := NewReaderOptions(pr, ReadOptions{SkipDamaged: opt.SkipDamaged})
	if err != nil {
		return nil, nil, err
	}
	rd.keysOnly, rd.at = true, pr
	meta := &sidecarMeta{Size: size, ID: rd.ID(), Lo: rd.off, Skip: opt.SkipDamaged}
	var b indexBuilder
	var e Exchange
	for {
		err = rd.ReadExchange(&e)
		if err != nil {
			break
		}
		b.add(e.Session, sortKey(e.Start), rd.last)
	}
	if err == io.EOF {
		err = nil
	}
	if pr.fn != nil && pr.reported < size {
		pr.fn(size, size) // the rest is not records
	}
	meta.End = rd.off
	var te *TruncatedError
	var ce *CorruptError
	switch {
	case errors.As(err, &te):
		meta.End = te.Offset
	case errors.As(err, &ce):
		meta.End = ce.Offset
	}
	if !meta.setStop(err) {
		return nil, nil, err
	}
	meta.Damaged = rd.Damaged()
	return b.encode(nil), meta, err
}

// walk reads every record frame in [lo, hi) of f and checks its checksum,
// skipping the stretches in damaged. It returns the number of exchange
// records and the offsetHash sum of their offsets. Unknown kinds are skipped
// as the Reader skips them; a header is an error, and so are an index and
// an end marker when strict is set.
func walk(f io.ReaderAt, lo, hi int64, damaged []Damage, strict bool, progress func(done, total int64)) (int, uint64, error) {
	pr := &progressReader{r: io.NewSectionReader(f, lo, hi-lo), total: hi - lo, fn: progress}
	br := bufio.NewReaderSize(pr, writeBufferSize)
	h := crc32.New(crcTable)
	off := lo
	n := 0
	var sum uint64
	var fh [frameHeaderSize]byte
	buf := make([]byte, 32<<10)
	lr := &io.LimitedReader{R: br}
	var kb [1]byte
	for off < hi {
		if len(damaged) > 0 && damaged[0].Offset == off {
			if _, err := br.Discard(int(damaged[0].Length)); err != nil {
				return 0, 0, fmt.Errorf("damaged stretch at byte %d runs past the data", off)
			}
			off += damaged[0].Length
			damaged = damaged[1:]
			continue
		}
		if _, err := io.ReadFull(br, fh[:]); err != nil {
			return 0, 0, fmt.Errorf("cut inside the record at byte %d", off)
		}
		size := int64(binary.LittleEndian.Uint32(fh[0:4]))
		if size == 0 || size > MaxRecordSize || off+frameHeaderSize+size > hi {
			return 0, 0, fmt.Errorf("record at byte %d: impossible length %d", off, size)
		}
		kind, err := br.ReadByte()
		if err != nil {
			return 0, 0, err
		}
		h.Reset()
		h.Write(fh[0:4])
		kb[0] = kind
		h.Write(kb[:])
		lr.N = size - 1
		if _, err := io.CopyBuffer(h, lr, buf); err != nil {
			return 0, 0, err
		}
		if h.Sum32() != binary.LittleEndian.Uint32(fh[4:8]) {
			return 0, 0, fmt.Errorf("record at byte %d: checksum mismatch", off)
		}
		switch {
		case kind == kindExchange:
			n++
			sum += offsetHash(off)
		case kind == kindHeader || strict && (kind == kindIndex || kind == kindEnd):
			return 0, 0, fmt.Errorf("record at byte %d: unexpected kind %q", off, kind)
		}
		off += frameHeaderSize + size
	}
	if len(damaged) > 0 {
		return 0, 0, fmt.Errorf("no damaged stretch at byte %d", damaged[0].Offset)
	}
	return n, sum, nil
}

// decodeSessionStart is decodeExchange for the index pass: it decodes the
// session key and the start into e and checks that the other fields are
// well-formed msgpack, without keeping them.
func decodeSessionStart(dec *msgpack.Decoder, e *Exchange, limit int) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 0 || n > limit {
		return fmt.Errorf("exchange record claims %d fields", n)
	}
	for i := 0; i < n; i++ {
		k, err := dec.DecodeInt()
		if err != nil {
			return fmt.Errorf("field key: %w", err)
		}
		switch k {
		case fSession:
			e.Session, err = dec.DecodeString()
		case fStart:
			var ns int64
			ns, err = dec.DecodeInt64()
			e.Start = time.Unix(0, ns).UTC()
		default:
			err = dec.Skip()
		}
		if err != nil {
			return fmt.Errorf("field %d: %w", k, err)
		}
	}
	return nil
}
