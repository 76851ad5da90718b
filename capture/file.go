package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// OpenOptions change how Open reads a recording.
type OpenOptions struct {
	// SkipDamaged is ReadOptions.SkipDamaged: a pass over the file skips
	// damaged records, and Session leaves out an exchange whose record is
	// damaged (listed by File.Damaged) instead of failing.
	SkipDamaged bool
	// Verify reads every record of the file once to check its checksum and
	// that the index lists exactly the exchange records, before trusting an
	// index; an index that disagrees is rebuilt. Without it Open checks the
	// index cheaply (counts, offsets in range, a few records read back) and
	// a damaged record is found when its session is read.
	Verify bool
	// Progress, when set, is called during a pass over the file (a rebuild
	// or Verify) with the bytes done and the file size, about every
	// megabyte and at the end.
	Progress func(done, total int64)
}

// IndexSource says where the session index of a File came from.
type IndexSource int

// Where an index comes from.
const (
	// IndexInFile is the index a version-2 writer put in the recording.
	IndexInFile IndexSource = iota + 1
	// IndexSidecar is an index saved beside the recording (SidecarPath)
	// by an earlier Open or by SaveIndex. Open prefers it to the one in
	// the recording when it matches the file.
	IndexSidecar
	// IndexRebuilt is an index built by a pass over the recording.
	IndexRebuilt
)

// IndexInfo describes the session index of a File.
type IndexInfo struct {
	// Source is where the index came from.
	Source IndexSource
	// Rebuilt says why the recording's own index was not used, when
	// Source is IndexRebuilt: "no index in a version-1 recording",
	// "no end marker", "the index disagrees with the records: ...".
	Rebuilt string
	// Saved is the path the index was read from or saved to beside the
	// recording; "" when it was kept in memory only.
	Saved string
	// SaveError says why a rebuilt index could not be saved (the
	// directory is not writable, say); it is kept in memory then.
	SaveError error
}

// File is a recording opened for reading its sessions one at a time: its
// session index is in memory (a few bytes per exchange), its exchanges are
// read on demand. It is safe for concurrent use. Close it when done.
type File struct {
	f      *os.File
	path   string
	header FileHeader
	id     string
	size   int64
	lo, hi int64 // the records an offset may point into
	idx    *index
	info   IndexInfo
	skip   bool

	passDamaged []Damage // skipped by the pass that built the index
	stop        error    // how that pass ended

	mu      sync.Mutex
	damaged []Damage // of the pass, then of Session
}

// Open opens the recording at path with its session index: one saved
// beside it (SidecarPath) that matches the file, else the one in the file, else
// one built by a pass over the file and saved beside it (in memory only
// when that fails). Like ReadFile, a cut or damaged recording gives a File
// with what could be read together with the *TruncatedError or
// *CorruptError (wrapped in an *os.PathError); a File is nil only when the
// file cannot be read as a recording at all.
func Open(path string) (*File, error) {
	return OpenWith(path, OpenOptions{})
}

// OpenWith is Open with options. Its sessions and exchanges are those
// ReadFileWith gives with the same SkipDamaged, in the same order, and the
// error is the same, with two exceptions found only when the record is read
// (File.Session): without Verify, damage in a file that holds a valid index;
// and a record whose checksum matches but whose fields do not decode (amp
// never writes one), since a pass decodes only the session key and start.
func OpenWith(path string, opt OpenOptions) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	file, err := open(f, path, opt)
	if file == nil {
		f.Close()
	}
	if err != nil {
		err = &os.PathError{Op: "read", Path: path, Err: err}
	}
	return file, err
}

func open(f *os.File, path string, opt OpenOptions) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	rd, err := NewReader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return nil, err
	}
	file := &File{f: f, path: path, header: rd.Header(), id: rd.ID(), size: size, lo: rd.off, skip: opt.SkipDamaged}

	// A saved index first: it may hold names and extras (SaveIndex).
	sidecar := SidecarPath(path)
	if ok, stop := file.useSidecar(sidecar, opt); ok {
		file.info = IndexInfo{Source: IndexSidecar, Saved: sidecar}
		file.stop = stop
		return file, stop
	}
	reason := "no index in a version-1 recording"
	if file.header.Version >= 2 {
		if reason = file.useEmbedded(opt); reason == "" {
			return file, nil
		}
	}

	body, meta, stop := rebuild(f, size, opt)
	if meta == nil {
		return nil, stop // a read error
	}
	idx, err := decodeIndex(body, meta.Lo, meta.End)
	if err != nil {
		return nil, fmt.Errorf("capture: building the session index: %w", err) // a bug
	}
	file.idx, file.hi, file.damaged, file.passDamaged, file.stop = idx, meta.End, meta.Damaged, meta.Damaged, stop
	file.info = IndexInfo{Source: IndexRebuilt, Rebuilt: reason}
	if meta.Tail, err = tailCRC(f, size); err == nil {
		var data []byte
		if data, err = encodeSidecar(meta, body); err == nil {
			err = saveSidecar(sidecar, data)
		}
	}
	if err != nil {
		file.info.SaveError = err
	} else {
		file.info.Saved = sidecar
	}
	return file, stop
}

// useEmbedded takes the index the writer put before the end marker, after
// checking it. It returns "" when it did, else why not.
func (file *File) useEmbedded(opt OpenOptions) string {
	endOff, end, ok := findEnd(file.f, file.lo, file.size)
	if !ok {
		return "no end marker"
	}
	if end.Index == 0 {
		return "no index in the recording"
	}
	bad := func(format string, args ...any) string {
		return "the index disagrees with the records: " + fmt.Sprintf(format, args...)
	}
	if end.Index < file.lo || end.Index >= endOff || endOff-end.Index > MaxRecordSize+frameHeaderSize {
		return bad("it is said to be at byte %d", end.Index)
	}
	frame := make([]byte, endOff-end.Index)
	if _, err := file.f.ReadAt(frame, end.Index); err != nil {
		return bad("%v", err)
	}
	kind, body, rest, err := splitFrame(frame)
	if err == nil && (kind != kindIndex || len(rest) != 0) {
		err = errors.New("not an index record")
	}
	if err != nil {
		return bad("%v", err)
	}
	idx, err := decodeIndex(body, file.lo, end.Index)
	if err != nil {
		return bad("%v", err)
	}
	if idx.exchanges != end.Exchanges {
		return bad("it lists %d exchanges, the end marker counts %d", idx.exchanges, end.Exchanges)
	}
	file.idx, file.hi = idx, end.Index
	if err := file.check(end.Index, opt, nil); err != nil {
		file.idx = nil
		return bad("%v", err)
	}
	file.info = IndexInfo{Source: IndexInFile}
	return ""
}

// useSidecar takes the index saved beside the recording when it belongs to
// this file as it is now and was read the same way, after checking it. It
// returns how that reading ended.
func (file *File) useSidecar(path string, opt OpenOptions) (bool, error) {
	// An index is never much bigger than its recording: no more is read.
	if st, err := os.Stat(path); err != nil || st.Size() > file.size+1<<20 {
		return false, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, nil
	}
	meta, body, err := decodeSidecar(data)
	if err != nil || meta.Size != file.size || meta.ID != file.id || meta.Lo != file.lo || meta.End > file.size || meta.End < meta.Lo {
		return false, nil
	}
	stop := meta.stopError()
	if meta.Skip != opt.SkipDamaged && !sameEitherWay(meta) {
		return false, nil // another reading would give other records
	}
	if tail, err := tailCRC(file.f, file.size); err != nil || tail != meta.Tail {
		return false, nil
	}
	idx, err := decodeIndex(body, meta.Lo, meta.End)
	if err != nil {
		return false, nil
	}
	file.idx, file.hi = idx, meta.End
	if err := file.check(-1, opt, meta.Damaged); err != nil {
		file.idx = nil
		return false, nil
	}
	file.damaged, file.passDamaged = meta.Damaged, meta.Damaged
	return true, stop
}

// sameEitherWay reports whether a reading with SkipDamaged and one without
// give the same records: no damage skipped, and no stop that a skipping
// reader would read past (a damaged record, or a length that claims more
// than the file holds).
func sameEitherWay(m *sidecarMeta) bool {
	return len(m.Damaged) == 0 && (m.Stop == "" || m.Stop == "truncated" && !strings.HasPrefix(m.Detail, "cut inside a record ("))
}

// check checks file.idx against the records cheaply: the record at the
// highest offset ends at last (when last >= 0; within the data otherwise)
// and the first record of a few sessions is an intact exchange of that
// session with that start. With Verify it also walks every record.
func (file *File) check(last int64, opt OpenOptions, damaged []Damage) error {
	x := file.idx
	if x.exchanges == 0 {
		if last >= 0 && last != file.lo {
			return fmt.Errorf("no exchanges listed, but records fill bytes %d..%d", file.lo, last)
		}
	} else {
		size, err := file.frameSize(x.maxOff)
		if err != nil {
			return err
		}
		if end := x.maxOff + frameHeaderSize + size; last >= 0 && end != last || end > file.hi {
			return fmt.Errorf("the last record listed ends at byte %d, the records at %d", end, max(last, file.hi))
		}
		n := len(x.sessions)
		for k := 0; k < min(n, spotChecks); k++ {
			i := k * (n - 1) / max(1, min(n, spotChecks)-1)
			off := x.offsets(i)[0]
			e, _, err := file.readExchangeAt(off, nil)
			if err != nil {
				return err
			}
			if s := x.sessions[i]; e.Session != s.ID || sortKey(e.Start) != sortKey(s.Start) {
				return fmt.Errorf("the record at byte %d is of session %q at %v, not %q at %v", off, e.Session, e.Start, s.ID, s.Start)
			}
		}
	}
	if !opt.Verify {
		return nil
	}
	n, sum, err := walk(file.f, file.lo, file.hi, damaged, last >= 0, opt.Progress)
	if err != nil {
		return err
	}
	if n != x.exchanges || sum != x.sum {
		return fmt.Errorf("the records hold %d exchanges, the index lists %d (or other offsets)", n, x.exchanges)
	}
	return nil
}

// findEnd finds the end marker that ends the file: a frame of kind 'E'
// whose checksum matches and that ends at the last byte.
func findEnd(f io.ReaderAt, lo, size int64) (int64, endRecord, bool) {
	n := min(size-lo, 256)
	if n < frameHeaderSize+1 {
		return 0, endRecord{}, false
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, size-n); err != nil {
		return 0, endRecord{}, false
	}
	for p := int(n) - frameHeaderSize - 1; p >= 0; p-- {
		if int(binary.LittleEndian.Uint32(buf[p:]))+frameHeaderSize+p != len(buf) || buf[p+frameHeaderSize] != kindEnd {
			continue
		}
		kind, body, _, err := splitFrame(buf[p:])
		if err != nil || kind != kindEnd {
			continue
		}
		var end endRecord
		if msgpack.Unmarshal(body, &end) != nil {
			continue
		}
		return size - n + int64(p), end, true
	}
	return 0, endRecord{}, false
}

// frameSize reads the length of the record frame at off.
func (file *File) frameSize(off int64) (int64, error) {
	var fh [frameHeaderSize]byte
	if _, err := file.f.ReadAt(fh[:], off); err != nil {
		return 0, &CorruptError{Record: -1, Offset: off, Detail: "the index points past the data"}
	}
	size := int64(binary.LittleEndian.Uint32(fh[0:4]))
	if size == 0 || size > MaxRecordSize || off+frameHeaderSize+size > file.hi {
		return 0, &CorruptError{Record: -1, Offset: off, Detail: fmt.Sprintf("impossible record length %d", size)}
	}
	return size, nil
}

// reading is the scratch space of one reader of records by offset.
type reading struct {
	buf []byte
	br  bytes.Reader
	dec *msgpack.Decoder
}

// readExchangeAt reads the exchange record whose frame is at off. It also
// returns the frame's length when it is known.
func (file *File) readExchangeAt(off int64, rs *reading) (*Exchange, int64, error) {
	if rs == nil {
		rs = new(reading)
	}
	size, err := file.frameSize(off)
	if err != nil {
		return nil, 0, err
	}
	n := frameHeaderSize + size
	rs.buf = slices.Grow(rs.buf[:0], int(n))[:n]
	b := rs.buf
	if _, err := file.f.ReadAt(b, off); err != nil {
		if err == io.EOF {
			err = &CorruptError{Record: -1, Offset: off, Detail: "the record runs past the end of the file"}
		}
		return nil, n, err
	}
	crc := crc32.Update(0, crcTable, b[0:4])
	crc = crc32.Update(crc, crcTable, b[frameHeaderSize:])
	if crc != binary.LittleEndian.Uint32(b[4:8]) {
		return nil, n, &CorruptError{Record: -1, Offset: off, Detail: "checksum mismatch"}
	}
	if b[frameHeaderSize] != kindExchange {
		return nil, n, &CorruptError{Record: -1, Offset: off, Detail: "the index points at a record that is not an exchange"}
	}
	body := b[frameHeaderSize+1:]
	rs.br.Reset(body)
	if rs.dec == nil {
		rs.dec = msgpack.NewDecoder(&rs.br)
	} else {
		rs.dec.ResetReader(&rs.br)
	}
	e := new(Exchange)
	if err := decodeExchange(rs.dec, e, len(body)); err != nil {
		return nil, n, &CorruptError{Record: -1, Offset: off, Detail: "bad exchange: " + err.Error()}
	}
	return e, n, nil
}

// Header returns the recording's file header.
func (f *File) Header() FileHeader { return f.header }

// ID identifies the recording (see Reader.ID).
func (f *File) ID() string { return f.id }

// Index says where the session index came from.
func (f *File) Index() IndexInfo { return f.info }

// Sessions lists the sessions in the order ReadFile gives them, without
// their exchanges. The slice is shared: do not modify it.
func (f *File) Sessions() []SessionInfo { return f.idx.sessions }

// Exchanges returns the number of exchanges in all sessions.
func (f *File) Exchanges() int { return f.idx.exchanges }

// Extra returns what the writer kept under name in the index
// (Writer.SetIndexExtra), or nil.
func (f *File) Extra(name string) []byte { return slices.Clone(f.idx.extras[name]) }

// Damaged lists the damaged stretches skipped so far: by the pass that
// built the index, then by Session with SkipDamaged.
func (f *File) Damaged() []Damage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.damaged)
}

// Session reads the exchanges of session i (an index into Sessions), in
// order. A damaged record is a *CorruptError (wrapped in an *os.PathError),
// or, with SkipDamaged, left out and listed by Damaged.
func (f *File) Session(i int) (*Session, error) {
	if i < 0 || i >= len(f.idx.sessions) {
		return nil, fmt.Errorf("capture: session %d of %d", i, len(f.idx.sessions))
	}
	info := f.idx.sessions[i]
	offs := f.idx.offsets(i)
	s := &Session{ID: info.ID, Exchanges: make([]*Exchange, 0, len(offs))}
	var rs reading
	for _, off := range offs {
		e, n, err := f.readExchangeAt(off, &rs)
		if err == nil && e.Session != info.ID {
			err = &CorruptError{Record: -1, Offset: off, Detail: fmt.Sprintf("the index lists it in session %q, it is of %q", info.ID, e.Session)}
		}
		var ce *CorruptError
		if err != nil && f.skip && errors.As(err, &ce) {
			f.mu.Lock()
			if !slices.ContainsFunc(f.damaged, func(d Damage) bool { return d.Offset == off }) {
				f.damaged = append(f.damaged, Damage{Offset: off, Length: n, Detail: ce.Detail})
			}
			f.mu.Unlock()
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: f.path, Err: err}
		}
		s.Exchanges = append(s.Exchanges, e)
	}
	return s, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// SaveIndex saves the session index beside the recording (SidecarPath,
// atomically, mode 0600) with the given readable names of sessions (by
// key; the others keep theirs) and extras (added to those the index holds),
// for the next Open; the recording itself is never changed, and this File
// keeps its names and extras.
func (f *File) SaveIndex(names map[string]string, extras map[string][]byte) error {
	meta := &sidecarMeta{Size: f.size, ID: f.id, Lo: f.lo, End: f.hi, Skip: f.skip, Damaged: f.passDamaged}
	if !meta.setStop(f.stop) {
		return fmt.Errorf("capture: %s: the index was not built by a whole reading", f.path)
	}
	var err error
	if meta.Tail, err = tailCRC(f.f, f.size); err != nil {
		return err
	}
	all := maps.Clone(f.idx.extras)
	if all == nil {
		all = make(map[string][]byte)
	}
	maps.Copy(all, extras)
	data, err := encodeSidecar(meta, f.idx.encode(names, all))
	if err == nil {
		err = saveSidecar(SidecarPath(f.path), data)
	}
	return err
}
