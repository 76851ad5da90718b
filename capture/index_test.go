package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/vmihailenco/msgpack/v5"
)

// shuffledExchanges is newSizedExchanges with the exchanges of nSessions
// sessions written out of start order, as a recorder writes them (in the
// order they complete), with equal starts, a zero start and an empty
// session key among them.
func shuffledExchanges(t testing.TB, seed int64, n, nSessions, maxBody int) []*capture.Exchange {
	exs := newSizedExchanges(t, seed, n, maxBody)
	rng := rand.New(rand.NewSource(seed))
	for i, e := range exs {
		e.Session = fmt.Sprintf("s%d", rng.Intn(nSessions))
		if rng.Intn(5) == 0 && i > 0 {
			e.Start = exs[rng.Intn(i)].Start // an equal start
		}
		e.Start = e.Start.Add(time.Duration(rng.Intn(5000)-2500) * time.Millisecond)
	}
	if n > 3 {
		exs[1].Session = ""
		exs[2].Start = time.Time{}
	}
	return exs
}

// frameAt is one record of a recording.
type frameAt struct {
	off  int
	kind byte
	body []byte
	end  int
}

// framesOf splits a whole recording into its records (the header first).
func framesOf(t testing.TB, data []byte) []frameAt {
	t.Helper()
	var out []frameAt
	for p := 12; p < len(data); {
		size := int(binary.LittleEndian.Uint32(data[p:]))
		out = append(out, frameAt{off: p, kind: data[p+8], body: data[p+9 : p+8+size], end: p + 8 + size})
		p += 8 + size
	}
	return out
}

// toVersion1 rewrites a version-2 recording as a version-1 writer wrote it:
// no index record, an end marker with the count only.
func toVersion1(t testing.TB, data []byte) []byte {
	t.Helper()
	out := slices.Clone(data[:12])
	binary.LittleEndian.PutUint32(out[8:], 1)
	n := 0
	for _, f := range framesOf(t, data) {
		switch f.kind {
		case 'I':
		case 'E':
			out = append(out, frame('E', mustMarshal(t, map[string]any{"exchanges": n}))...)
		default:
			if f.kind == 'X' {
				n++
			}
			out = append(out, data[f.off:f.end]...)
		}
	}
	return out
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeTemp(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameAsReadFile opens path and checks that the File gives what
// ReadFileWith gives: the same error, header, ID, sessions in the same
// order with the same exchanges, the same damage. It returns the File's
// index information and the number of exchanges.
func sameAsReadFile(t testing.TB, path string, opt capture.OpenOptions) (capture.IndexInfo, int) {
	t.Helper()
	rec, rerr := capture.ReadFileWith(path, capture.ReadOptions{SkipDamaged: opt.SkipDamaged})
	f, ferr := capture.OpenWith(path, opt)
	if fmt.Sprint(rerr) != fmt.Sprint(ferr) {
		t.Fatalf("%s: Open: %v; ReadFile: %v", path, ferr, rerr)
	}
	if (rec == nil) != (f == nil) {
		t.Fatalf("%s: Open gave a file: %v, ReadFile a recording: %v (err %v)", path, f != nil, rec != nil, rerr)
	}
	if f == nil {
		return capture.IndexInfo{}, 0
	}
	defer f.Close()
	if !reflect.DeepEqual(f.Header(), rec.Header) || f.ID() != rec.ID {
		t.Fatalf("%s: header %+v %s, ReadFile %+v %s", path, f.Header(), f.ID(), rec.Header, rec.ID)
	}
	infos := f.Sessions()
	if len(infos) != len(rec.Sessions) || f.Exchanges() != rec.Exchanges() {
		t.Fatalf("%s: %d sessions, %d exchanges; ReadFile %d, %d", path, len(infos), f.Exchanges(), len(rec.Sessions), rec.Exchanges())
	}
	for i, want := range rec.Sessions {
		if in := infos[i]; in.ID != want.ID || !in.Start.Equal(want.Start()) || in.Exchanges != len(want.Exchanges) {
			t.Fatalf("%s: session %d is %+v; ReadFile %q at %v with %d", path, i, in, want.ID, want.Start(), len(want.Exchanges))
		}
		got, err := f.Session(i)
		if err != nil {
			t.Fatalf("%s: session %d: %v", path, i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: session %d differs from ReadFile's", path, i)
		}
	}
	if d := f.Damaged(); len(d) != len(rec.Damaged) || len(d) > 0 && !reflect.DeepEqual(d, rec.Damaged) {
		t.Fatalf("%s: damage %+v; ReadFile %+v", path, d, rec.Damaged)
	}
	return f.Index(), f.Exchanges()
}

func TestOpenMatchesReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for seed := int64(1); seed <= 6; seed++ {
		exs := shuffledExchanges(t, seed, int(seed)*40, int(seed)*3, 500)
		data, _ := encodeFile(t, exs)
		for _, skip := range []bool{false, true} {
			for _, verify := range []bool{false, true} {
				opt := capture.OpenOptions{SkipDamaged: skip, Verify: verify}
				v2 := writeTemp(t, dir, fmt.Sprintf("v2-%d-%v-%v.amp", seed, skip, verify), data)
				if info, n := sameAsReadFile(t, v2, opt); info.Source != capture.IndexInFile || n != len(exs) {
					t.Fatalf("seed %d: version 2: %+v, %d exchanges", seed, info, n)
				}
				if _, err := os.Stat(v2 + ".idx"); !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("a sidecar beside a recording with an index: %v", err)
				}
				v1 := writeTemp(t, dir, fmt.Sprintf("v1-%d-%v-%v.amp", seed, skip, verify), toVersion1(t, data))
				info, _ := sameAsReadFile(t, v1, opt)
				if info.Source != capture.IndexRebuilt || info.Saved != v1+".idx" || info.SaveError != nil || info.Rebuilt != "no index in a version-1 recording" {
					t.Fatalf("seed %d: version 1: %+v", seed, info)
				}
				if st, err := os.Stat(v1 + ".idx"); err != nil || st.Mode().Perm() != 0o600 {
					t.Fatalf("sidecar: %v, %v", st, err)
				}
				if info, _ := sameAsReadFile(t, v1, opt); info.Source != capture.IndexSidecar {
					t.Fatalf("seed %d: version 1 again: %+v", seed, info)
				}
			}
		}
	}
	// A version-1 file still reads, and says its version.
	rec, err := capture.ReadFile(filepath.Join(dir, "v1-1-false-false.amp"))
	if err != nil || rec.Header.Version != 1 || rec.Exchanges() != 40 {
		t.Fatalf("version 1: %v, %+v", err, rec)
	}
}

func TestOpenEmptyRecording(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, _ := encodeFile(t, nil)
	if info, n := sameAsReadFile(t, writeTemp(t, dir, "e2.amp", data), capture.OpenOptions{Verify: true}); info.Source != capture.IndexInFile || n != 0 {
		t.Fatalf("%+v %d", info, n)
	}
	if info, n := sameAsReadFile(t, writeTemp(t, dir, "e1.amp", toVersion1(t, data)), capture.OpenOptions{Verify: true}); info.Source != capture.IndexRebuilt || n != 0 {
		t.Fatalf("%+v %d", info, n)
	}
}

// TestIndexEveryCut cuts a recording at every byte: Open gives exactly what
// ReadFile gives (the records before the cut, the same error), builds the
// index once and uses the saved one after.
func TestIndexEveryCut(t *testing.T) {
	t.Parallel()
	exs := shuffledExchanges(t, 7, 8, 3, 40) // every cut reads the file several times: keep it small
	data, ends := encodeFile(t, exs)
	dir := t.TempDir()
	path := filepath.Join(dir, "cut.amp")
	for cut := 0; cut <= len(data); cut++ {
		os.Remove(path + ".idx")
		writeTemp(t, dir, "cut.amp", data[:cut])
		info, n := sameAsReadFile(t, path, capture.OpenOptions{})
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		if cut >= ends[0]-1 && n != whole {
			t.Fatalf("cut %d: %d exchanges, want %d", cut, n, whole)
		}
		if info.Source == 0 {
			continue // no header: no file
		}
		want := capture.IndexRebuilt
		if cut == len(data) {
			want = capture.IndexInFile
		}
		if info.Source != want {
			t.Fatalf("cut %d: index %+v", cut, info)
		}
		if want == capture.IndexRebuilt && cut%4 == 0 {
			if info, _ := sameAsReadFile(t, path, capture.OpenOptions{Verify: cut%3 == 0}); info.Source != capture.IndexSidecar {
				t.Fatalf("cut %d, opened again: index %+v", cut, info)
			}
			// Skipping damage may read past a cut length: its own reading.
			sameAsReadFile(t, path, capture.OpenOptions{SkipDamaged: true, Verify: cut%8 == 0})
		}
	}
}

// TestIndexFlippedBits flips bits of the index record, the end marker and
// a sidecar: the damage is noticed, the index rebuilt from the records, and
// what Open gives is still what ReadFile gives.
func TestIndexFlippedBits(t *testing.T) {
	t.Parallel()
	exs := shuffledExchanges(t, 8, 30, 5, 100)
	data, _ := encodeFile(t, exs)
	frames := framesOf(t, data)
	idx := frames[len(frames)-2]
	if idx.kind != 'I' {
		t.Fatalf("the record before the end marker is %q", idx.kind)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.amp")
	bad := make([]byte, len(data))
	for i := idx.off; i < len(data); i++ {
		for _, mask := range []byte{1 << (i % 8), 0xff} {
			copy(bad, data)
			bad[i] ^= mask
			os.Remove(path + ".idx")
			writeTemp(t, dir, "r.amp", bad)
			for _, skip := range []bool{false, true} {
				info, _ := sameAsReadFile(t, path, capture.OpenOptions{SkipDamaged: skip})
				if info.Source == capture.IndexInFile {
					t.Fatalf("byte %d ^%#x: the damaged index was used", i, mask)
				}
			}
		}
	}

	// A sidecar with a flipped bit is not used.
	v1 := toVersion1(t, data)
	writeTemp(t, dir, "r.amp", v1)
	os.Remove(path + ".idx")
	sameAsReadFile(t, path, capture.OpenOptions{})
	side, err := os.ReadFile(path + ".idx")
	if err != nil {
		t.Fatal(err)
	}
	for i := range side {
		b := slices.Clone(side)
		b[i] ^= 1 << (i % 8)
		writeTemp(t, dir, "r.amp.idx", b)
		if info, _ := sameAsReadFile(t, path, capture.OpenOptions{}); info.Source != capture.IndexRebuilt {
			t.Fatalf("sidecar byte %d flipped: %+v", i, info)
		}
	}
}

// indexBody encodes a session index as capture/index.go describes it.
type indexSession struct {
	key   string
	start int64
	offs  []int64
}

func indexBody(sessions []indexSession) []byte {
	n := 0
	for _, s := range sessions {
		n += len(s.offs)
	}
	b := binary.AppendUvarint([]byte{'I'}, 1)
	b = binary.AppendUvarint(b, uint64(len(sessions)))
	b = binary.AppendUvarint(b, uint64(n))
	for _, s := range sessions {
		b = binary.AppendUvarint(b, uint64(len(s.key)))
		b = append(b, s.key...)
		b = binary.AppendUvarint(b, 0)
		b = binary.AppendVarint(b, s.start)
		b = binary.AppendUvarint(b, uint64(len(s.offs)))
		blob := binary.AppendUvarint(nil, uint64(s.offs[0]))
		for i := 1; i < len(s.offs); i++ {
			blob = binary.AppendVarint(blob, s.offs[i]-s.offs[i-1])
		}
		b = binary.AppendUvarint(b, uint64(len(blob)))
		b = append(b, blob...)
	}
	return binary.AppendUvarint(b, 0)
}

// trueIndex is the index of exs as written in data, built by the test.
func trueIndex(t testing.TB, data []byte, exs []*capture.Exchange) []indexSession {
	t.Helper()
	var offs []int64
	for _, f := range framesOf(t, data) {
		if f.kind == 'X' {
			offs = append(offs, int64(f.off))
		}
	}
	byKey := map[string]*indexSession{}
	var out []*indexSession
	key := func(tm time.Time) int64 {
		if tm.IsZero() {
			return math.MinInt64
		}
		return tm.UnixNano()
	}
	type ex struct {
		off   int64
		start int64
	}
	members := map[string][]ex{}
	for i, e := range exs {
		if byKey[e.Session] == nil {
			byKey[e.Session] = &indexSession{key: e.Session}
			out = append(out, byKey[e.Session])
		}
		members[e.Session] = append(members[e.Session], ex{offs[i], key(e.Start)})
	}
	for _, s := range out {
		m := members[s.key]
		sort.SliceStable(m, func(i, j int) bool { return m[i].start < m[j].start })
		s.start = m[0].start
		for _, x := range m {
			s.offs = append(s.offs, x.off)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].start != out[j].start {
			return out[i].start < out[j].start
		}
		return out[i].key < out[j].key
	})
	res := make([]indexSession, len(out))
	for i, s := range out {
		res[i] = *s
	}
	return res
}

// withIndex replaces the index record of a version-2 recording.
func withIndex(t testing.TB, data []byte, body []byte, exchanges int) []byte {
	t.Helper()
	frames := framesOf(t, data)
	idx := frames[len(frames)-2]
	out := slices.Clone(data[:idx.off])
	out = append(out, frame(body[0], body[1:])...)
	end := struct { // a struct, not a map: the writer's order of keys
		Exchanges int `msgpack:"exchanges"`
		Index     int `msgpack:"index"`
	}{exchanges, idx.off}
	return append(out, frame('E', mustMarshal(t, end))...)
}

// TestIndexDisagrees gives recordings an intact index (checksums right)
// that disagrees with their records: Open notices and rebuilds it, and
// gives what ReadFile gives.
func TestIndexDisagrees(t *testing.T) {
	t.Parallel()
	exs := shuffledExchanges(t, 9, 60, 6, 200)
	data, _ := encodeFile(t, exs)
	good := trueIndex(t, data, exs)
	dir := t.TempDir()

	// The test's index is the writer's: used as it is.
	same := withIndex(t, data, indexBody(good), len(exs))
	if !bytes.Equal(same, data) {
		t.Fatal("the test's index differs from the writer's")
	}
	swapKeys := slices.Clone(good)
	swapKeys[0].key, swapKeys[1].key = good[1].key, good[0].key
	if swapKeys[0].key > swapKeys[1].key && swapKeys[0].start == swapKeys[1].start {
		t.Fatal("the first two sessions start together: pick another seed")
	}
	shifted := slices.Clone(good)
	shifted[2].offs = slices.Clone(good[2].offs)
	shifted[2].offs[0] += 8 // inside the record
	dup := slices.Clone(good)
	dup[3].offs = slices.Clone(good[3].offs)
	dup[3].offs[len(dup[3].offs)-1] = good[4].offs[0] // one record twice, another not at all
	dropped := slices.Clone(good[1:])
	lastSession := slices.Clone(good)
	lastSession[len(good)-1].offs = good[len(good)-1].offs[:len(good[len(good)-1].offs)-1]

	tests := []struct {
		name      string
		data      []byte
		verifyOff bool // noticed without Verify
	}{
		{"sessions swapped", withIndex(t, data, indexBody(swapKeys), len(exs)), true},
		{"an offset inside a record", withIndex(t, data, indexBody(shifted), len(exs)), true},
		{"a record listed twice", withIndex(t, data, indexBody(dup), len(exs)), false},
		{"a session left out", withIndex(t, data, indexBody(dropped), len(exs)-len(good[0].offs)), false},
		{"count differs from the end marker", withIndex(t, data, indexBody(lastSession), len(exs)), true},
		{"end marker counts fewer", withIndex(t, data, indexBody(good), len(exs)-1), true},
		{"not an index", withIndex(t, data, append([]byte{'I'}, "garbage"...), len(exs)), true},
	}
	for i, tc := range tests {
		path := writeTemp(t, dir, fmt.Sprintf("d%d.amp", i), tc.data)
		if tc.verifyOff {
			if info, _ := sameAsReadFile(t, path, capture.OpenOptions{}); info.Source != capture.IndexRebuilt || !strings.Contains(info.Rebuilt, "disagrees") {
				t.Errorf("%s: %+v", tc.name, info)
			}
			os.Remove(path + ".idx")
		}
		if info, _ := sameAsReadFile(t, path, capture.OpenOptions{Verify: true}); info.Source != capture.IndexRebuilt {
			t.Errorf("%s, verified: %+v", tc.name, info)
		}
	}

	// Without Verify, a record listed twice is found when its session is read.
	f, err := capture.Open(filepath.Join(dir, "d2.amp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Index().Source == capture.IndexInFile {
		if _, err := f.Session(3); err == nil || !strings.Contains(err.Error(), "the index lists it in session") {
			t.Errorf("session read by a wrong offset: %v", err)
		}
	}

	// A sidecar of another recording, or of the file before it grew, is
	// not used.
	v1 := toVersion1(t, data)
	path := writeTemp(t, dir, "grow.amp", v1[:len(v1)/2])
	sameAsReadFile(t, path, capture.OpenOptions{})
	writeTemp(t, dir, "grow.amp", v1)
	if info, n := sameAsReadFile(t, path, capture.OpenOptions{}); info.Source != capture.IndexRebuilt || n != len(exs) {
		t.Errorf("grown file: %+v, %d", info, n)
	}
	other := writeTemp(t, dir, "other.amp", toVersion1(t, mustEncode(t, shuffledExchanges(t, 10, 60, 6, 200))))
	side, _ := os.ReadFile(path + ".idx")
	writeTemp(t, dir, "other.amp.idx", side)
	if info, _ := sameAsReadFile(t, other, capture.OpenOptions{}); info.Source != capture.IndexRebuilt {
		t.Errorf("another recording's sidecar: %+v", info)
	}
}

func mustEncode(t testing.TB, exs []*capture.Exchange) []byte {
	data, _ := encodeFile(t, exs)
	return data
}

// TestOpenDamaged reads recordings with a damaged exchange record: with
// Verify, or without an index in the file, Open gives what ReadFile gives;
// without Verify a file's own index is used and the damage is found when
// the session is read, never giving a wrong exchange.
func TestOpenDamaged(t *testing.T) {
	t.Parallel()
	exs := shuffledExchanges(t, 11, 40, 5, 300)
	data, _ := encodeFile(t, exs)
	frames := framesOf(t, data)
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(11))
	for k := 1; k < len(frames)-2; k += 3 {
		bad := slices.Clone(data)
		fr := frames[k]
		pos := fr.off + rng.Intn(fr.end-fr.off)
		bad[pos] ^= 1 << rng.Intn(8)
		v2 := writeTemp(t, dir, fmt.Sprintf("b%d.amp", k), bad)
		v1 := writeTemp(t, dir, fmt.Sprintf("b%d-v1.amp", k), toVersion1(t, bad))
		for _, skip := range []bool{false, true} {
			sameAsReadFile(t, v2, capture.OpenOptions{SkipDamaged: skip, Verify: true})
			sameAsReadFile(t, v1, capture.OpenOptions{SkipDamaged: skip})
			// The saved index, checked record by record, damage skipped.
			if info, _ := sameAsReadFile(t, v1, capture.OpenOptions{SkipDamaged: skip, Verify: true}); info.Source != capture.IndexSidecar {
				t.Fatalf("record %d damaged, skip %v: saved index not used: %+v", k, skip, info)
			}
			os.Remove(v1 + ".idx")
			os.Remove(v2 + ".idx")
		}
		// Without Verify: the index in the file, the damage on reading.
		f, err := capture.OpenWith(v2, capture.OpenOptions{SkipDamaged: true})
		if err != nil {
			t.Fatal(err)
		}
		if f.Index().Source == capture.IndexInFile {
			n := 0
			for i := range f.Sessions() {
				s, err := f.Session(i)
				if err != nil {
					t.Fatalf("record %d: session %d: %v", k, i, err)
				}
				for _, e := range s.Exchanges {
					if !slices.ContainsFunc(exs, func(w *capture.Exchange) bool { return reflect.DeepEqual(e, w) }) {
						t.Fatalf("record %d: session %d has an exchange never written", k, i)
					}
				}
				n += len(s.Exchanges)
			}
			if d := f.Damaged(); n != len(exs)-1 || len(d) != 1 || d[0].Offset != int64(fr.off) {
				t.Fatalf("record %d damaged: read %d of %d, damage %+v", k, n, len(exs), d)
			}
		}
		f.Close()
	}
}

// TestSidecarNeverOverRecording: a file in the sidecar's place that is not
// an index is left alone; the index is kept in memory.
func TestSidecarNeverOverRecording(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := toVersion1(t, mustEncode(t, shuffledExchanges(t, 12, 20, 3, 100)))
	path := writeTemp(t, dir, "r.amp", data)
	writeTemp(t, dir, "r.amp.idx", data) // a recording named like an index
	info, n := sameAsReadFile(t, path, capture.OpenOptions{})
	if info.Source != capture.IndexRebuilt || info.Saved != "" || info.SaveError == nil || n != 20 {
		t.Fatalf("%+v", info)
	}
	if b, _ := os.ReadFile(path + ".idx"); !bytes.Equal(b, data) {
		t.Fatal("the recording in the sidecar's place was changed")
	}
	// A directory in its place.
	path2 := writeTemp(t, dir, "s.amp", data)
	if err := os.Mkdir(path2+".idx", 0o700); err != nil {
		t.Fatal(err)
	}
	if info, _ := sameAsReadFile(t, path2, capture.OpenOptions{}); info.SaveError == nil || info.Source != capture.IndexRebuilt {
		t.Fatalf("%+v", info)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, ".*")); len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestOpenProgress(t *testing.T) {
	t.Parallel()
	data := toVersion1(t, mustEncode(t, shuffledExchanges(t, 13, 300, 10, 8000)))
	path := writeTemp(t, t.TempDir(), "r.amp", data)
	var calls [][2]int64
	f, err := capture.OpenWith(path, capture.OpenOptions{Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(calls) < 2 {
		t.Fatalf("progress calls %v", calls)
	}
	for i, c := range calls {
		if c[1] != int64(len(data)) || c[0] > c[1] || i > 0 && c[0] < calls[i-1][0] {
			t.Fatalf("progress calls %v", calls)
		}
	}
	if last := calls[len(calls)-1]; last[0] != last[1] {
		t.Fatalf("last progress %v", last)
	}
	// The saved index needs no pass, so no progress.
	calls = nil
	f, err = capture.OpenWith(path, capture.OpenOptions{Progress: func(done, total int64) { calls = append(calls, [2]int64{done, total}) }})
	if err != nil || len(calls) != 0 || f.Index().Source != capture.IndexSidecar {
		t.Fatalf("second open: %v, %v, %+v", err, calls, f.Index())
	}
	f.Close()
}

func TestOpenConcurrentSessions(t *testing.T) {
	t.Parallel()
	path := writeTemp(t, t.TempDir(), "r.amp", mustEncode(t, shuffledExchanges(t, 14, 200, 12, 500)))
	rec, err := capture.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < len(rec.Sessions); k++ {
				i := (k + g) % len(rec.Sessions)
				s, err := f.Session(i)
				if err != nil || !reflect.DeepEqual(s, rec.Sessions[i]) {
					errs <- fmt.Errorf("session %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, err := f.Session(len(rec.Sessions)); err == nil {
		t.Error("a session past the end")
	}
}

func TestNameSessionAndExtra(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	exs := newSizedExchanges(t, 15, 10, 100)
	w.NameSession("2", "checkout")
	for _, e := range exs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	w.NameSession("3", "browse")
	w.NameSession("nobody", "never written")
	w.SetIndexExtra("rules", []byte("learned"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := writeTemp(t, t.TempDir(), "r.amp", buf.Bytes())
	sameAsReadFile(t, path, capture.OpenOptions{Verify: true})
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]string{}
	for _, s := range f.Sessions() {
		names[s.ID] = s.Name
	}
	if names["2"] != "checkout" || names["3"] != "browse" || names["1"] != "" || len(names) != 4 || string(f.Extra("rules")) != "learned" || f.Extra("x") != nil {
		t.Fatalf("names %v, extra %q", names, f.Extra("rules"))
	}
}

// BenchmarkOpenSessions measures Open and Sessions on a recording of 100k
// exchanges in 2000 sessions: the memory a File keeps (live-B/exchange,
// the heap it holds after a collection) and allocates (alloc-B/exchange),
// with the index in the file and rebuilt from a version-1 file.
func BenchmarkOpenSessions(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	path := filepath.Join(dir, "big.amp")
	w, err := capture.Create(path, testHeader)
	if err != nil {
		b.Fatal(err)
	}
	e := typicalExchange()
	start := e.Start
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < n; i++ {
		e.Session = fmt.Sprintf("user-%04d", rng.Intn(2000))
		e.Start = start.Add(time.Duration(i) * time.Millisecond)
		if err := w.Write(e); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	v1 := filepath.Join(dir, "v1.amp")
	if err := os.WriteFile(v1, toVersion1(b, data), 0o600); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, path string }{{"in-file", path}, {"rebuilt", v1}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var live, alloc uint64
			var ms0, ms1 runtime.MemStats
			for i := 0; i < b.N; i++ {
				os.Remove(v1 + ".idx")
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				f, err := capture.Open(bc.path)
				if err != nil {
					b.Fatal(err)
				}
				if ss := f.Sessions(); len(ss) != 2000 || f.Exchanges() != n {
					b.Fatalf("%d sessions, %d exchanges", len(ss), f.Exchanges())
				}
				runtime.ReadMemStats(&ms1)
				alloc += ms1.TotalAlloc - ms0.TotalAlloc
				runtime.GC()
				runtime.ReadMemStats(&ms1)
				live += ms1.HeapAlloc - min(ms1.HeapAlloc, ms0.HeapAlloc)
				runtime.KeepAlive(f)
				f.Close()
			}
			b.ReportMetric(float64(live)/float64(b.N)/n, "live-B/exchange")
			b.ReportMetric(float64(alloc)/float64(b.N)/n, "alloc-B/exchange")
		})
	}
}

// TestOpenUndecodableRecord: a record whose checksum matches but whose
// fields do not decode is indexed by the pass (it reads keys and starts
// only) and refused when its session is read; never a wrong exchange.
func TestOpenUndecodableRecord(t *testing.T) {
	t.Parallel()
	var file []byte
	file = append(file, capture.Magic...)
	file = binary.LittleEndian.AppendUint32(file, 1)
	file = append(file, frame('H', mustMarshal(t, map[string]any{"source": "test"}))...)
	file = append(file, frame('X', mustMarshal(t, map[int]any{1: "a", 3: 1000, 8: "GET", 9: "http://a/1"}))...)
	file = append(file, frame('X', mustMarshal(t, map[int]any{1: "b", 3: 2000, 8: 17, 9: "http://a/2"}))...) // a method that is a number
	file = append(file, frame('X', mustMarshal(t, map[int]any{1: "a", 3: 3000, 8: "GET", 9: "http://a/3"}))...)
	file = append(file, frame('E', mustMarshal(t, map[string]any{"exchanges": 3}))...)
	dir := t.TempDir()
	for _, skip := range []bool{false, true} {
		path := writeTemp(t, dir, fmt.Sprintf("u%v.amp", skip), file)
		f, err := capture.OpenWith(path, capture.OpenOptions{SkipDamaged: skip})
		if err != nil || len(f.Sessions()) != 2 {
			t.Fatalf("skip %v: %v", skip, err)
		}
		a, err := f.Session(0)
		if err != nil || len(a.Exchanges) != 2 || a.Exchanges[1].Request.URL != "http://a/3" {
			t.Fatalf("skip %v: session a: %+v, %v", skip, a, err)
		}
		b, err := f.Session(1)
		if skip {
			if err != nil || len(b.Exchanges) != 0 || len(f.Damaged()) != 1 {
				t.Fatalf("session b skipping: %+v, %v, damage %v", b, err, f.Damaged())
			}
		} else if !errors.Is(err, capture.ErrCorrupt) || !strings.Contains(err.Error(), "bad exchange") {
			t.Fatalf("session b: %+v, %v", b, err)
		}
		f.Close()
	}
}

// BenchmarkWriterIndex measures what a Writer keeps in memory for the index
// while recording 100k exchanges in 2000 sessions (index-B/exchange: the
// heap it holds after a collection, the exchanges themselves excluded).
func BenchmarkWriterIndex(b *testing.B) {
	const n = 100_000
	e := typicalExchange()
	start := e.Start
	keys := make([]string, 2000)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%04d", i)
	}
	var held float64
	for i := 0; i < b.N; i++ {
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		w, err := capture.NewWriter(discard{}, testHeader)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewSource(1))
		for k := 0; k < n; k++ {
			e.Session = keys[rng.Intn(len(keys))]
			e.Start = start.Add(time.Duration(k) * time.Millisecond)
			if err := w.Write(e); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&ms1)
		held += float64(ms1.HeapAlloc) - float64(ms0.HeapAlloc)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(held/float64(b.N)/n, "index-B/exchange")
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestSaveIndex: names and extras saved beside a recording come back at the
// next Open, which prefers the saved index while it matches the file.
func TestSaveIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exs := shuffledExchanges(t, 16, 50, 4, 200)
	data := mustEncode(t, exs)
	for _, name := range []string{"v2.amp", "v1.amp", "cut.amp"} {
		b := data
		switch name {
		case "v1.amp":
			b = toVersion1(t, data)
		case "cut.amp":
			b = data[:len(data)*2/3]
		}
		path := writeTemp(t, dir, name, b)
		f, _ := capture.OpenWith(path, capture.OpenOptions{SkipDamaged: true})
		key := f.Sessions()[1].ID
		if err := f.SaveIndex(map[string]string{key: "checkout"}, map[string][]byte{"rules": []byte("r1")}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		info, _ := sameAsReadFile(t, path, capture.OpenOptions{SkipDamaged: true, Verify: true})
		if info.Source != capture.IndexSidecar {
			t.Fatalf("%s: %+v", name, info)
		}
		f, _ = capture.OpenWith(path, capture.OpenOptions{SkipDamaged: true})
		if s := f.Sessions(); s[1].Name != "checkout" || s[0].Name != "" || string(f.Extra("rules")) != "r1" {
			t.Fatalf("%s: names %+v, extra %q", name, s[:2], f.Extra("rules"))
		}
		f.Close()
		if st, err := os.Stat(path + ".idx"); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, st, err)
		}
	}
	// The file changed: the saved index is not used.
	path := writeTemp(t, dir, "v2.amp", mustEncode(t, shuffledExchanges(t, 17, 50, 4, 200)))
	if info, _ := sameAsReadFile(t, path, capture.OpenOptions{}); info.Source != capture.IndexInFile {
		t.Fatalf("changed file: %+v", info)
	}
}

// BenchmarkVerify measures Open with Verify (every record's checksum) on a
// recording of 100k exchanges.
func BenchmarkVerify(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big.amp")
	w, err := capture.Create(path, testHeader)
	if err != nil {
		b.Fatal(err)
	}
	e := typicalExchange()
	for i := 0; i < 100_000; i++ {
		e.Session = fmt.Sprintf("user-%04d", i%2000)
		if err := w.Write(e); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f, err := capture.OpenWith(path, capture.OpenOptions{Verify: true})
		if err != nil || f.Index().Source != capture.IndexInFile {
			b.Fatal(err, f.Index())
		}
		f.Close()
	}
}

// TestRebuildSkipsDamageInPlace: the index pass over a damaged file with
// SkipDamaged searches the file in place for the next intact record; it
// finds what ReadFile (which holds the rest in memory) finds: damaged
// lengths, payloads, two damaged records, damage up to the end.
func TestRebuildSkipsDamageInPlace(t *testing.T) {
	t.Parallel()
	exs := shuffledExchanges(t, 18, 20, 4, 150)
	data := toVersion1(t, mustEncode(t, exs))
	frames := framesOf(t, data)
	dir := t.TempDir()
	path := filepath.Join(dir, "d.amp")
	check := func(what string, bad []byte) {
		t.Helper()
		os.Remove(path + ".idx")
		writeTemp(t, dir, "d.amp", bad)
		if info, _ := sameAsReadFile(t, path, capture.OpenOptions{SkipDamaged: true}); info.Source != capture.IndexRebuilt {
			t.Fatalf("%s: %+v", what, info)
		}
	}
	for k := 1; k < len(frames); k++ {
		fr := frames[k]
		for j := 0; j < 9; j++ { // the length, the checksum, the kind
			bad := slices.Clone(data)
			bad[fr.off+j] ^= 0xff
			check(fmt.Sprintf("record %d byte %d", k, j), bad)
		}
		bad := slices.Clone(data)
		bad[(fr.off+fr.end)/2] ^= 0x10
		if k+2 < len(frames) {
			binary.LittleEndian.PutUint32(bad[frames[k+2].off:], 0xfffffff0) // a second one, its length damaged
		}
		check(fmt.Sprintf("records %d and %d", k, k+2), bad)
	}
	// Everything after the first record damaged.
	bad := slices.Clone(data)
	for i := frames[2].off; i < len(bad); i += 7 {
		bad[i] ^= 0x5a
	}
	check("the rest", bad)
}

// Open lists the sessions of a recording from its index and reads one
// session at a time.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "amp-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "shop.amp")
	w, err := capture.Create(path, capture.FileHeader{Source: "example"})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for i, user := range []string{"ann", "bob", "ann", "ann", "bob"} {
		e := &capture.Exchange{Session: user, Start: start.Add(time.Duration(i) * time.Second),
			Request: capture.Request{Method: "GET", URL: fmt.Sprintf("http://shop.example/p/%d", i)}}
		if err := w.Write(e); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}

	f, err := capture.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	for i, s := range f.Sessions() {
		sess, err := f.Session(i)
		if err != nil {
			panic(err)
		}
		fmt.Println(s.ID, s.Exchanges, sess.Exchanges[len(sess.Exchanges)-1].Request.URL)
	}
	// Output:
	// ann 3 http://shop.example/p/3
	// bob 2 http://shop.example/p/4
}
