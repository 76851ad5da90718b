package capture_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/vmihailenco/msgpack/v5"
)

var testHeader = capture.FileHeader{
	Source:  "test",
	Created: time.Date(2026, 11, 26, 10, 0, 0, 123, time.UTC),
	Tool:    "amp test",
	Options: map[string]string{"max-body": "1048576"},
}

// newTestExchanges builds n varied exchanges from a seeded generator: duplicate
// and odd-case headers, binary bodies, truncation, flags and errors.
func newTestExchanges(t testing.TB, seed int64, n int) []*capture.Exchange {
	return newSizedExchanges(t, seed, n, 2000)
}

// newSizedExchanges is newTestExchanges with response bodies below maxBody
// bytes, for tests that read a file once per byte of it.
func newSizedExchanges(t testing.TB, seed int64, n, maxBody int) []*capture.Exchange {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	methods := []string{"GET", "POST", "PUT", "DELETE", "HEAD"}
	var out []*capture.Exchange
	for i := 0; i < n; i++ {
		start = start.Add(time.Duration(rng.Intn(2000)) * time.Millisecond)
		e := &capture.Exchange{
			Session:  fmt.Sprint(rng.Intn(4) + 1),
			Client:   fmt.Sprintf("10.0.0.%d:%d", rng.Intn(4)+1, 40000+rng.Intn(1000)),
			Start:    start,
			TTFB:     time.Duration(rng.Intn(50_000_000)),
			Duration: time.Duration(50_000_000 + rng.Intn(50_000_000)),
			Request: capture.Request{
				Method: methods[rng.Intn(len(methods))],
				URL:    fmt.Sprintf("http://shop.example:8080/articles/%d?q=%d", rng.Intn(1000), i),
				Proto:  "HTTP/1.1",
				Header: capture.Headers{
					{Name: "Host", Value: "shop.example:8080"},
					{Name: "user-agent", Value: "Mozilla/5.0 (X11; Linux x86_64)"},
					{Name: "Cookie", Value: "session=abc"},
					{Name: "Cookie", Value: "theme=dark"},
				},
			},
			Response: capture.Response{
				Status: 200 + rng.Intn(4)*100,
				Proto:  "HTTP/1.1",
				Header: capture.Headers{
					{Name: "Content-Type", Value: "text/html; charset=utf-8"},
					{Name: "Set-Cookie", Value: "a=1"},
					{Name: "Set-Cookie", Value: "b=2"},
				},
			},
		}
		if rng.Intn(2) == 0 {
			e.Request.Body = randomBytes(rng, rng.Intn(maxBody/8+1)+1)
		}
		e.Request.BodySize = int64(len(e.Request.Body))
		e.Response.Body = randomBytes(rng, rng.Intn(maxBody))
		if len(e.Response.Body) == 0 {
			e.Response.Body = nil
		}
		e.Response.BodySize = int64(len(e.Response.Body))
		switch rng.Intn(6) {
		case 2: // a gRPC call over HTTP/2: the status in the trailers
			e.Request.Proto, e.Response.Proto = "HTTP/2.0", "HTTP/2.0"
			e.Response.Trailer = capture.Headers{{Name: "Grpc-Status", Value: "14"}, {Name: "Grpc-Message", Value: "unavailable"}}
		case 0: // truncated body keeps its size and a hash
			e.Flags |= capture.FlagResponseTruncated
			e.Response.BodySize += 1 << 20
			e.Response.BodyHash = randomBytes(rng, 32)
		case 1: // no response at all
			e.Flags |= capture.FlagNoResponse | capture.FlagFailed
			e.Error = "dial tcp 127.0.0.1:1: connect: connection refused"
			e.Response = capture.Response{BodySize: -1}
			e.TTFB = 0
		}
		out = append(out, e)
	}
	return out
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	rng.Read(b)
	return b
}

// encodeFile writes exs to a new recording and returns its bytes and the offset
// at which each exchange record ends.
func encodeFile(t testing.TB, exs []*capture.Exchange) ([]byte, []int) {
	t.Helper()
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	var ends []int
	for _, e := range exs {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, buf.Len())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), ends
}

// readAll reads every exchange it can and returns them with the error that
// stopped the reading (nil at a clean end).
func readAll(data []byte) (capture.FileHeader, []*capture.Exchange, error) {
	r, err := capture.NewReader(bytes.NewReader(data))
	if err != nil {
		return capture.FileHeader{}, nil, err
	}
	var out []*capture.Exchange
	for {
		e, err := r.Next()
		if err == io.EOF {
			return r.Header(), out, nil
		}
		if err != nil {
			return r.Header(), out, err
		}
		out = append(out, e)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	exs := newTestExchanges(t, 1, 200)
	data, _ := encodeFile(t, exs)
	h, got, err := readAll(data)
	if err != nil {
		t.Fatal(err)
	}
	want := testHeader
	want.Version = capture.Version
	if !reflect.DeepEqual(h, want) {
		t.Errorf("header = %+v, want %+v", h, want)
	}
	if len(got) != len(exs) {
		t.Fatalf("read %d exchanges, wrote %d", len(got), len(exs))
	}
	for i := range exs {
		if !reflect.DeepEqual(got[i], exs[i]) {
			t.Fatalf("exchange %d differs:\n got %+v\nwant %+v", i, got[i], exs[i])
		}
	}
}

func TestEmptyRecording(t *testing.T) {
	t.Parallel()
	data, _ := encodeFile(t, nil)
	_, got, err := readAll(data)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty recording: %d exchanges, err %v", len(got), err)
	}
}

// TestEveryCut cuts a recording at every byte and checks that the reader
// returns exactly the whole records before the cut, then a TruncatedError.
func TestEveryCut(t *testing.T) {
	t.Parallel()
	exs := newSizedExchanges(t, 2, 25, 200) // every cut reads the file again: keep it small
	data, ends := encodeFile(t, exs)
	headerEnd := ends[0] - recordLen(t, data, ends, 0)
	for cut := 0; cut < len(data); cut++ {
		_, got, err := readAll(data[:cut])
		if cut == 0 {
			if !errors.Is(err, capture.ErrNotRecording) {
				t.Fatalf("cut 0: err = %v, want ErrNotRecording", err)
			}
			continue
		}
		var te *capture.TruncatedError
		if !errors.As(err, &te) {
			t.Fatalf("cut %d: err = %v, want a TruncatedError", cut, err)
		}
		if cut < headerEnd {
			if !te.InHeader {
				t.Fatalf("cut %d inside the header: %v", cut, err)
			}
			continue
		}
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		if len(got) != whole || te.Records != whole {
			t.Fatalf("cut %d: read %d exchanges, error says %d, want %d (%v)", cut, len(got), te.Records, whole, err)
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], exs[i]) {
				t.Fatalf("cut %d: exchange %d differs", cut, i)
			}
		}
		if want := fmt.Sprintf("truncated after record %d", whole); !strings.Contains(err.Error(), want) {
			t.Fatalf("cut %d: message %q lacks %q", cut, err, want)
		}
	}
}

// recordLen returns the framed size of exchange record i.
func recordLen(t *testing.T, data []byte, ends []int, i int) int {
	t.Helper()
	start := 0
	if i > 0 {
		start = ends[i-1]
	} else {
		// The first exchange record starts where the header record ends:
		// walk the header frame.
		start = 12 + 8 + int(binary.LittleEndian.Uint32(data[12:16]))
	}
	return ends[i] - start
}

// TestFlippedBits flips one bit of every byte of a recording in turn (a
// different bit position from byte to byte) and then every bit of each byte
// at once: the reader must report an error and must never return an
// exchange that was not written.
func TestFlippedBits(t *testing.T) {
	t.Parallel()
	exs := newSizedExchanges(t, 3, 6, 300)
	data, _ := encodeFile(t, exs)
	bad := make([]byte, len(data))
	for i := 0; i < len(data); i++ {
		for _, mask := range []byte{1 << (i % 8), 0xff} {
			copy(bad, data)
			bad[i] ^= mask
			_, got, err := readAll(bad)
			if err == nil {
				t.Fatalf("flipping %#x of byte %d went unnoticed", mask, i)
			}
			if len(got) > len(exs) {
				t.Fatalf("byte %d: read %d exchanges from %d", i, len(got), len(exs))
			}
			for j := range got {
				if !reflect.DeepEqual(got[j], exs[j]) {
					t.Fatalf("flipping %#x of byte %d decoded garbage as exchange %d (err %v)", mask, i, j, err)
				}
			}
		}
	}
}

func TestVersionAndMagic(t *testing.T) {
	t.Parallel()
	data, _ := encodeFile(t, newTestExchanges(t, 4, 2))
	newer := append([]byte(nil), data...)
	binary.LittleEndian.PutUint32(newer[8:12], capture.Version+1)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{name: "newer version", data: newer, want: "version 3 is newer than this amp reads (2): upgrade amp"},
		{name: "text file", data: []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), want: "not an amp recording"},
		{name: "empty", data: nil, want: "not an amp recording"},
		{name: "magic prefix only", data: []byte(capture.Magic[:5]), want: "ends inside the file header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}

// frame builds a record the way the format describes it, for hand-made files.
func frame(kind byte, body []byte) []byte {
	payload := append([]byte{kind}, body...)
	out := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(payload)))
	crc := crc32.Update(0, crc32.MakeTable(crc32.Castagnoli), out[0:4])
	crc = crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), payload)
	binary.LittleEndian.PutUint32(out[4:8], crc)
	return append(out, payload...)
}

// TestForwardCompatible checks that unknown fields and record kinds from a
// newer writer of the same version are skipped.
func TestForwardCompatible(t *testing.T) {
	t.Parallel()
	mustMarshal := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var file []byte
	file = append(file, capture.Magic...)
	file = binary.LittleEndian.AppendUint32(file, capture.Version)
	file = append(file, frame('H', mustMarshal(map[string]any{"source": "future", "new-thing": 7}))...)
	file = append(file, frame('Z', []byte("a record kind from the future"))...)
	file = append(file, frame('X', mustMarshal(map[int]any{8: "GET", 9: "http://a/", 99: []int{1, 2}, 14: 204}))...)
	file = append(file, frame('E', mustMarshal(map[string]any{"exchanges": 1}))...)
	h, got, err := readAll(file)
	if err != nil {
		t.Fatal(err)
	}
	if h.Source != "future" || len(got) != 1 || got[0].Request.URL != "http://a/" || got[0].Response.Status != 204 {
		t.Fatalf("header %+v, exchanges %+v", h, got)
	}
}

func TestEndMarkerCount(t *testing.T) {
	t.Parallel()
	data, ends := encodeFile(t, newTestExchanges(t, 5, 3))
	// Drop the second exchange record: the checksums still hold, the count does not.
	spliced := append(append([]byte(nil), data[:ends[0]]...), data[ends[1]:]...)
	_, got, err := readAll(spliced)
	if !errors.Is(err, capture.ErrCorrupt) || len(got) != 2 {
		t.Fatalf("got %d exchanges, err %v; want 2 and a count mismatch", len(got), err)
	}
}

func TestWriterConcurrentAndKill(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rec.amp")
	w, err := capture.Create(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	exs := newTestExchanges(t, 6, 400)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(exs); i += 8 {
				if err := w.Write(exs[i]); err != nil {
					t.Error(err)
					return
				}
				if err := w.Flush(); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if w.Count() != len(exs) {
		t.Fatalf("Count = %d, want %d", w.Count(), len(exs))
	}
	// Without Close (as after kill -9) every flushed exchange is in the
	// partial file, and nothing is at path.
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%s exists before Close (%v)", path, err)
	}
	rec, err := capture.ReadFile(capture.PartialPath(path))
	if !errors.Is(err, capture.ErrTruncated) || !strings.Contains(err.Error(), "no end marker") {
		t.Fatalf("err = %v, want a truncation without end marker", err)
	}
	if !strings.Contains(err.Error(), capture.PartialPath(path)) {
		t.Errorf("error %q does not name the file", err)
	}
	if rec.Exchanges() != len(exs) {
		t.Fatalf("read %d exchanges, want %d", rec.Exchanges(), len(exs))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Write(exs[0]); err == nil {
		t.Fatal("Write after Close succeeded")
	}
	rec, err = capture.ReadFile(path)
	if err != nil || rec.Exchanges() != len(exs) {
		t.Fatalf("after Close: %d exchanges, err %v", rec.Exchanges(), err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() == 0 {
		t.Fatal(err)
	}
}

func TestGroupSessions(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ex := func(key string, at int) *capture.Exchange {
		return &capture.Exchange{Session: key, Start: t0.Add(time.Duration(at) * time.Second), Request: capture.Request{URL: fmt.Sprint(at)}}
	}
	// Written in completion order, not start order.
	sessions := capture.GroupSessions([]*capture.Exchange{ex("2", 5), ex("1", 3), ex("2", 4), ex("1", 1), ex("3", 1)})
	var got []string
	for _, s := range sessions {
		var urls []string
		for _, e := range s.Exchanges {
			urls = append(urls, e.Request.URL)
		}
		got = append(got, s.ID+":"+strings.Join(urls, ","))
	}
	want := []string{"1:1,3", "3:1", "2:4,5"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("sessions = %v, want %v", got, want)
	}
	if d := sessions[0].Duration(); d != 2*time.Second {
		t.Errorf("duration = %v", d)
	}
}

func FuzzReader(f *testing.F) {
	data, ends := encodeFile(f, newTestExchanges(f, 7, 5))
	f.Add(data)
	f.Add(data[:ends[2]+3])
	f.Add([]byte(capture.Magic))
	f.Add([]byte("not a recording"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, got, err := readAll(data)
		var te *capture.TruncatedError
		if errors.As(err, &te) && !te.InHeader && te.Records != len(got) {
			t.Fatalf("truncation says %d records, read %d", te.Records, len(got))
		}
		// Skipping damage reads the same until the first damage, and
		// never reports a clean end it did not see.
		skipped, damaged, serr := readAllSkipping(data)
		if len(skipped) < len(got) || !slices.EqualFunc(skipped[:len(got)], got, func(a, b *capture.Exchange) bool { return reflect.DeepEqual(a, b) }) {
			t.Fatalf("with SkipDamaged: %d exchanges, not starting with the %d read without", len(skipped), len(got))
		}
		if err == nil && (serr != nil || len(damaged) > 0 || len(skipped) != len(got)) {
			t.Fatalf("an intact file read with SkipDamaged: %d exchanges, damage %v, err %v", len(skipped), damaged, serr)
		}
		if errors.As(serr, &te) && !te.InHeader && te.Records != len(skipped) {
			t.Fatalf("with SkipDamaged, truncation says %d records, read %d", te.Records, len(skipped))
		}
		if err != nil {
			return
		}
		// Whatever reads cleanly must survive a second round trip unchanged.
		again, _ := encodeFile(t, got)
		_, got2, err := readAll(again)
		if err != nil || !reflect.DeepEqual(got, got2) {
			t.Fatalf("re-encoding changed the exchanges (err %v)", err)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("GET", "http://a/b?c=d", "Host", "a", []byte("body"), 200, int64(5), uint32(0))
	f.Add("", "", "", "", []byte(nil), 0, int64(-1), uint32(31))
	f.Fuzz(func(t *testing.T, method, url, hname, hvalue string, body []byte, status int, ns int64, flags uint32) {
		if len(body) == 0 {
			body = nil
		}
		e := &capture.Exchange{
			Start:    time.Unix(0, ns).UTC(),
			Duration: time.Duration(ns),
			Flags:    capture.Flags(flags),
			Request:  capture.Request{Method: method, URL: url, Header: capture.Headers{{Name: hname, Value: hvalue}}, Body: body, BodySize: int64(len(body))},
			Response: capture.Response{Status: status, Body: body, BodySize: ns},
		}
		if ns == 0 {
			e.Start = time.Time{}
		}
		data, _ := encodeFile(t, []*capture.Exchange{e})
		_, got, err := readAll(data)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], e) {
			t.Fatalf("round trip: err %v\n got %+v\nwant %+v", err, got, e)
		}
	})
}

// typicalExchange is a 1 KiB exchange: a browser's request headers and a small
// JSON response.
func typicalExchange() *capture.Exchange {
	return &capture.Exchange{
		Session:  "42",
		Client:   "192.168.1.20:51234",
		Start:    time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC),
		TTFB:     12 * time.Millisecond,
		Duration: 15 * time.Millisecond,
		Request: capture.Request{
			Method: "GET", URL: "http://shop.example/api/articles/9f3c2a1b?include=comments", Proto: "HTTP/1.1",
			Header: capture.Headers{
				{Name: "Host", Value: "shop.example"},
				{Name: "User-Agent", Value: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
				{Name: "Accept", Value: "application/json, text/plain, */*"},
				{Name: "Accept-Language", Value: "en-US,en;q=0.5"},
				{Name: "Accept-Encoding", Value: "gzip, deflate, br"},
				{Name: "Referer", Value: "http://shop.example/articles/9f3c2a1b"},
				{Name: "Cookie", Value: "session=4b7e0d9c2f1a8e6b3c5d7f9a1b2c3d4e; theme=dark"},
				{Name: "Connection", Value: "keep-alive"},
			},
		},
		Response: capture.Response{
			Status: 200, Proto: "HTTP/1.1",
			Header: capture.Headers{
				{Name: "Content-Type", Value: "application/json"},
				{Name: "Date", Value: "Thu, 26 Nov 2026 09:00:00 GMT"},
				{Name: "Cache-Control", Value: "no-store"},
			},
			Body: []byte(`{"id":"9f3c2a1b","title":"Hello","body":"` + strings.Repeat("lorem ipsum ", 25) + `","comments":[]}`),
		},
	}
}

func BenchmarkFormat(b *testing.B) {
	e := typicalExchange()
	e.Response.BodySize = int64(len(e.Response.Body))
	b.Run("encode", func(b *testing.B) {
		w, err := capture.NewWriter(io.Discard, testHeader)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := w.Write(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		const n = 4096
		exs := make([]*capture.Exchange, n)
		for i := range exs {
			exs[i] = e
		}
		data, ends := encodeFile(b, exs)
		b.SetBytes(int64(ends[1] - ends[0]))
		b.ReportAllocs()
		b.ResetTimer()
		var r *capture.Reader
		var x capture.Exchange
		for i := 0; i < b.N; i++ {
			if i%n == 0 {
				b.StopTimer()
				var err error
				if r, err = capture.NewReader(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			if err := r.ReadExchange(&x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// readAllSkipping is readAll with ReadOptions.SkipDamaged; it also returns
// what was skipped.
func readAllSkipping(data []byte) ([]*capture.Exchange, []capture.Damage, error) {
	r, err := capture.NewReaderOptions(bytes.NewReader(data), capture.ReadOptions{SkipDamaged: true})
	if err != nil {
		return nil, nil, err
	}
	var out []*capture.Exchange
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out, r.Damaged(), nil
		}
		if err != nil {
			return out, r.Damaged(), err
		}
		out = append(out, e)
	}
}

// TestSkipDamaged flips one bit, then every bit, of every byte after the
// file header in turn and reads with SkipDamaged: a damaged exchange record
// is skipped, reported at its offset, and every other exchange is read as
// written; a damaged end marker leaves every exchange and a truncation.
func TestSkipDamaged(t *testing.T) {
	t.Parallel()
	exs := newSizedExchanges(t, 3, 6, 300)
	data, ends := encodeFile(t, exs)
	headerEnd := ends[0] - recordLen(t, data, ends, 0)
	last := ends[len(ends)-1]
	indexEnd := last + 8 + int(binary.LittleEndian.Uint32(data[last:])) // the session index record
	bad := make([]byte, len(data))
	for i := headerEnd; i < len(data); i++ {
		k := 0 // the record the byte is in; len(exs) = the end marker
		for k < len(ends) && ends[k] <= i {
			k++
		}
		for _, mask := range []byte{1 << (i % 8), 0xff} {
			copy(bad, data)
			bad[i] ^= mask
			got, damaged, err := readAllSkipping(bad)
			if k == len(exs) && i < indexEnd {
				// The index is skipped like a damaged exchange; the end marker follows.
				if err != nil || len(got) != len(exs) || len(damaged) != 1 || damaged[0].Offset != int64(last) || damaged[0].Length != int64(indexEnd-last) {
					t.Fatalf("byte %d of the index ^%#x: %d exchanges, damage %+v, err %v", i, mask, len(got), damaged, err)
				}
				continue
			}
			if k == len(exs) {
				// A damaged length of the last record looks like a cut:
				// either is fine, with every exchange read.
				if !errors.Is(err, capture.ErrTruncated) || len(got) != len(exs) || len(damaged) > 1 || (len(damaged) == 1 && damaged[0].Offset != int64(indexEnd)) {
					t.Fatalf("byte %d of the end marker ^%#x: %d exchanges, damage %+v, err %v", i, mask, len(got), damaged, err)
				}
				continue
			}
			want := slices.Concat(exs[:k], exs[k+1:])
			start := headerEnd
			if k > 0 {
				start = ends[k-1]
			}
			if err != nil || len(damaged) != 1 || damaged[0].Offset != int64(start) || damaged[0].Length != int64(ends[k]-start) {
				t.Fatalf("byte %d of record %d ^%#x: damage %+v, err %v (record at %d..%d)", i, k, mask, damaged, err, start, ends[k])
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("byte %d of record %d ^%#x: read %d exchanges, not the %d others as written", i, k, mask, len(got), len(want))
			}
		}
	}
	// Undamaged, nothing is skipped.
	if got, damaged, err := readAllSkipping(data); err != nil || len(damaged) != 0 || len(got) != len(exs) {
		t.Fatalf("intact file: %d exchanges, damage %v, err %v", len(got), damaged, err)
	}
}

// TestSkipDamagedEveryCut checks that skipping damage does not hide a cut:
// a recording cut at any byte after its header reads the whole records
// before the cut, then the same TruncatedError as without SkipDamaged.
func TestSkipDamagedEveryCut(t *testing.T) {
	t.Parallel()
	exs := newSizedExchanges(t, 2, 25, 200)
	data, ends := encodeFile(t, exs)
	headerEnd := ends[0] - recordLen(t, data, ends, 0)
	for cut := headerEnd; cut < len(data); cut++ {
		got, damaged, err := readAllSkipping(data[:cut])
		whole := 0
		for whole < len(ends) && ends[whole] <= cut {
			whole++
		}
		var te *capture.TruncatedError
		if !errors.As(err, &te) || te.Records != whole || len(got) != whole || len(damaged) != 0 {
			t.Fatalf("cut %d: %d exchanges, damage %v, err %v; want %d and a truncation", cut, len(got), damaged, err, whole)
		}
		if want := fmt.Sprintf("truncated after record %d", whole); !strings.Contains(err.Error(), want) {
			t.Fatalf("cut %d: message %q lacks %q", cut, err, want)
		}
	}
}

// TestRecordingID checks that the ID follows the header: equal for copies,
// different for another recording.
func TestRecordingID(t *testing.T) {
	t.Parallel()
	data, _ := encodeFile(t, newTestExchanges(t, 4, 3))
	a, err := capture.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := capture.Read(bytes.NewReader(slices.Clone(data)))
	if err != nil || a.ID == "" || a.ID != b.ID {
		t.Fatalf("copies: %q and %q (%v)", a.ID, b.ID, err)
	}
	var buf bytes.Buffer
	h := testHeader
	h.Created = h.Created.Add(time.Nanosecond)
	w, _ := capture.NewWriter(&buf, h)
	_ = w.Close()
	c, err := capture.Read(&buf)
	if err != nil || c.ID == a.ID {
		t.Fatalf("another recording has the ID %q too (%v)", c.ID, err)
	}
}

// TestCreateRefuses checks that Create never replaces a file and makes
// recordings readable by their owner only.
func TestCreateRefuses(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.amp")
	if err := os.WriteFile(path, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := capture.Create(path, testHeader); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over a file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Fatalf("the file changed: %q", b)
	}
	os.Remove(path)
	w, err := capture.Create(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v (%v), want 0600", st.Mode(), err)
	}
	if h, err := capture.ReadHeader(path); err != nil || h.Source != testHeader.Source {
		t.Fatalf("ReadHeader: %+v, %v", h, err)
	}
	if _, err := os.Stat(capture.PartialPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the partial file is left after Close: %v", err)
	}
}

// TestCreatePartial checks the partial file's life: a left-over one (an
// interrupted recording) is never replaced, Abort removes it and leaves the
// path alone, a file that appears at the path before Close is not replaced
// (the recording stays in the partial file), and Replace replaces only at
// Close.
func TestCreatePartial(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.amp")
	partial := capture.PartialPath(path)
	if partial != path+".partial" {
		t.Fatalf("PartialPath = %q", partial)
	}
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }

	// A left-over partial file is kept.
	if err := os.WriteFile(partial, []byte("crashed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := capture.Create(path, testHeader); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), partial) {
		t.Fatalf("Create with a partial file left: %v, want an error naming it", err)
	}
	if read(partial) != "crashed" {
		t.Fatal("the partial file changed")
	}
	os.Remove(partial)

	// Abort leaves nothing.
	w, err := capture.Create(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(newTestExchanges(t, 1, 10)[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Abort left the partial file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Abort made %s: %v", path, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close after Abort: %v", err)
	}

	// A file that appears meanwhile wins; the recording stays in the partial file.
	w, err = capture.Create(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("theirs"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Close with a file at the path: %v, want an error naming it", err)
	}
	if read(path) != "theirs" {
		t.Fatal("Close replaced a file that appeared meanwhile")
	}
	if _, err := capture.ReadFile(partial); err != nil {
		t.Fatalf("the partial file is not a whole recording: %v", err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}

	// Replace keeps the old file until Close.
	w, err = capture.Replace(path, testHeader)
	if err != nil {
		t.Fatal(err)
	}
	if read(path) != "theirs" {
		t.Fatal("Replace changed the file before Close")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("after Replace: %v, %v; want a 0600 recording", st, err)
	}
	if _, err := capture.ReadFile(path); err != nil {
		t.Fatal(err)
	}
}
