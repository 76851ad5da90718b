package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampload/amp/bench/import/pcapgen"
	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/ingest"
)

const harDoc = `{"log": {"version": "1.2", "entries": [
 {"startedDateTime": "2026-03-01T10:00:00Z", "request": {"method": "GET", "url": "https://shop.test/"}, "response": {"status": 200}},
 {"startedDateTime": "2026-03-01T10:00:01Z", "request": {"method": "GET", "url": "https://shop.test/cart"}, "response": {"status": 200}},
 {"startedDateTime": "bad", "request": {"method": "GET", "url": "https://shop.test/x"}, "response": {"status": 200}}]}}`

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// genPcap is a small generated capture and the number of exchanges in it.
func genPcap(t *testing.T) ([]byte, int) {
	t.Helper()
	var b bytes.Buffer
	st, err := pcapgen.Write(&b, pcapgen.Config{Size: 300 << 10, Conns: 4, RequestsPerConn: 10, Seed: 3, MeanBody: 2000})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), st.Exchanges
}

// userLinkPcap is a pcap of link type 147 (USER0) with one packet.
func userLinkPcap() []byte {
	b := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 4)
	for _, v := range []uint32{0, 0, 65535, 147, 1, 0, 4, 4} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return append(b, "abcd"...)
}

func recording(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := capture.NewWriter(&b, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDetect checks format detection: every format, gzipped or not, and the
// reader it returns, which starts at the content's first byte also when the
// format is unknown.
func TestDetect(t *testing.T) {
	pcap, _ := genPcap(t)
	rec := recording(t)
	tests := []struct {
		name string
		data []byte
		want ingest.Format
		err  error
		head []byte // the content's first bytes
	}{
		{"pcap", pcap, ingest.FormatPcap, nil, pcap[:4]},
		{"gzipped pcap", gzipped(t, pcap), ingest.FormatPcap, nil, pcap[:4]},
		{"pcapng", []byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"), ingest.FormatPcapng, nil, []byte("\x0a\x0d\x0d\x0a")},
		{"HAR with BOM", []byte("\xef\xbb\xbf\n  {\"log\": {}}"), ingest.FormatHAR, nil, []byte("\xef\xbb\xbf\n")},
		{"gzipped HAR", gzipped(t, []byte(`{"log":{}}`)), ingest.FormatHAR, nil, []byte(`{"lo`)},
		{"recording", rec, ingest.FormatRecording, nil, rec[:4]},
		{"text", []byte("hello world"), "", ingest.ErrUnknownFormat, []byte("hell")},
		{"gzipped text", gzipped(t, []byte("hello world")), "", ingest.ErrUnknownFormat, []byte("hell")},
		{"empty", nil, "", ingest.ErrUnknownFormat, nil},
	}
	for _, tc := range tests {
		f, r, err := ingest.Detect(bytes.NewReader(tc.data))
		if f != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: %q, %v; want %q, %v", tc.name, f, err, tc.want, tc.err)
			continue
		}
		head, _ := io.ReadAll(io.LimitReader(r, int64(len(tc.head))))
		if !bytes.Equal(head, tc.head) {
			t.Errorf("%s: the reader starts with %q, want %q", tc.name, head, tc.head)
		}
	}
	if _, _, err := ingest.Detect(bytes.NewReader([]byte{0x1f, 0x8b, 0})); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("broken gzip: %v", err)
	}
	if _, err := ingest.ParseFormat("pcapng"); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"json", "amp", ""} {
		if _, err := ingest.ParseFormat(s); err == nil {
			t.Errorf("ParseFormat accepted %q", s)
		}
	}
}

// TestDetectFile checks what DetectFile refuses, each with a message naming
// the file.
func TestDetectFile(t *testing.T) {
	dir := t.TempDir()
	pcap, _ := genPcap(t)
	files := map[string]string{
		"ok":     writeFile(t, dir, "ok.pcap.gz", gzipped(t, pcap)),
		"rec":    writeFile(t, dir, "rec.amp", recording(t)),
		"text":   writeFile(t, dir, "notes.txt", []byte("hello")),
		"user":   writeFile(t, dir, "user.pcap", userLinkPcap()),
		"har":    writeFile(t, dir, "shop.har", []byte(harDoc)),
		"nofile": filepath.Join(dir, "nope.pcap"),
		"dir":    dir,
	}
	if in, err := ingest.DetectFile(files["ok"], ""); err != nil || in != (ingest.Input{Path: files["ok"], Format: ingest.FormatPcap}) {
		t.Errorf("ok: %+v, %v", in, err)
	}
	if in, err := ingest.DetectFile(files["har"], ""); err != nil || in.Format != ingest.FormatHAR {
		t.Errorf("har: %+v, %v", in, err)
	}
	if in, err := ingest.DetectFile(files["text"], ingest.FormatHAR); err != nil || in.Format != ingest.FormatHAR {
		t.Errorf("forced: %+v, %v", in, err)
	}
	for name, want := range map[string]string{
		"rec":    "rec.amp is an amp recording already",
		"text":   "notes.txt: not a packet capture (pcap, pcapng) or HAR file (--format forces one)",
		"user":   "user.pcap: link type LINKTYPE_147 is not supported",
		"nofile": "nope.pcap: no such file",
		"dir":    "is a directory",
	} {
		_, err := ingest.DetectFile(files[name], "")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
	var le *ingest.LinkError
	if _, err := ingest.DetectFile(files["user"], ""); !errors.As(err, &le) || le.Path != files["user"] {
		t.Errorf("user: %v, want a *LinkError", err)
	}
}

// sink collects exchanges and counts flushes; it fails from the failAt-th
// exchange on (when > 0).
type sink struct {
	exs     []*capture.Exchange
	flushes int
	failAt  int
}

var errFull = errors.New("disk full")

func (s *sink) Write(e *capture.Exchange) error {
	if s.failAt > 0 && len(s.exs)+1 >= s.failAt {
		return errFull
	}
	s.exs = append(s.exs, e)
	return nil
}

func (s *sink) Flush() error { s.flushes++; return nil }

// TestImport imports a gzipped capture and a HAR file into one sink, with no
// command line: every exchange arrives with a session key, the counts add up,
// the sink is flushed after each file and the skipped HAR entry is a warning.
func TestImport(t *testing.T) {
	dir := t.TempDir()
	pcap, n := genPcap(t)
	inputs := []ingest.Input{
		{Path: writeFile(t, dir, "a.pcap.gz", gzipped(t, pcap)), Format: ingest.FormatPcap},
		{Path: writeFile(t, dir, "b.har", []byte(harDoc)), Format: ingest.FormatHAR},
	}
	var warned []string
	var progressed int
	cfg := ingest.Config{Warn: func(m string) { warned = append(warned, m) }, Progress: func(ingest.Progress) { progressed++ }}
	var s sink
	st, err := ingest.Import(context.Background(), cfg, inputs, &s)
	if err != nil {
		t.Fatal(err)
	}
	if st.Files != 2 || st.HARFiles != 1 || st.HAR.Exchanges != 2 || st.HAR.Skipped != 1 || st.Packets.Pairs != n || st.Requests != n+2 || len(s.exs) != n+2 {
		t.Errorf("stats %+v, %d exchanges written; want %d pairs and 2 HAR entries", st, len(s.exs), n)
	}
	if s.flushes != 2 {
		t.Errorf("%d flushes, want one per file", s.flushes)
	}
	keys := map[string]bool{}
	for _, e := range s.exs {
		if e.Session == "" {
			t.Fatalf("exchange without session key: %s %s", e.Request.Method, e.Request.URL)
		}
		keys[e.Session] = true
	}
	if st.Sessions != len(keys) || st.Sessions < 2 {
		t.Errorf("Sessions = %d, %d keys seen", st.Sessions, len(keys))
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "b.har: skipped 1 entries") || len(st.Warnings) != 1 {
		t.Errorf("warnings %q, %q", warned, st.Warnings)
	}
	if progressed == 0 {
		t.Error("no progress reported")
	}
}

// TestImportStops checks Import's errors: the sink's, a cancelled context, a
// capture of an unsupported link type, a recording, and a cut capture (a
// warning, not an error).
func TestImportStops(t *testing.T) {
	dir := t.TempDir()
	pcap, n := genPcap(t)
	full := ingest.Input{Path: writeFile(t, dir, "a.pcap", pcap), Format: ingest.FormatPcap}
	ctx := context.Background()

	s := sink{failAt: 3}
	st, err := ingest.Import(ctx, ingest.Config{}, []ingest.Input{full}, &s)
	if !errors.Is(err, errFull) || !strings.HasPrefix(err.Error(), "writing the recording: ") || st.Requests != 2 || st.Files != 0 {
		t.Errorf("failing sink: %v, %+v", err, st)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ingest.Import(cancelled, ingest.Config{}, []ingest.Input{full}, &sink{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	user := ingest.Input{Path: writeFile(t, dir, "user.pcap", userLinkPcap()), Format: ingest.FormatPcap}
	var le *ingest.LinkError
	if _, err := ingest.Import(ctx, ingest.Config{}, []ingest.Input{user}, &sink{}); !errors.As(err, &le) || len(le.Links) != 1 || le.Links[0] != "LINKTYPE_147" {
		t.Errorf("unsupported link type: %v", err)
	}

	rec := ingest.Input{Path: writeFile(t, dir, "r.amp", recording(t)), Format: ingest.FormatRecording}
	if _, err := ingest.Import(ctx, ingest.Config{}, []ingest.Input{rec}, &sink{}); err == nil || !strings.Contains(err.Error(), "an amp recording already") {
		t.Errorf("recording: %v", err)
	}

	cut := ingest.Input{Path: writeFile(t, dir, "cut.pcap", pcap[:len(pcap)/2+7]), Format: ingest.FormatPcap}
	s = sink{}
	st, err = ingest.Import(ctx, ingest.Config{}, []ingest.Input{cut}, &s)
	if err != nil || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "cut.pcap: cut short") || st.Requests == 0 || st.Requests >= n {
		t.Errorf("cut capture: %v, %+v", err, st)
	}
}

// FuzzDetect checks that Detect never panics and, whatever it finds, returns
// a reader of the whole content (for input that is not gzip, the input).
func FuzzDetect(f *testing.F) {
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00"))
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00"))
	f.Add([]byte("\xef\xbb\xbf {\"log\": {}}"))
	f.Add([]byte(capture.Magic))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		format, r, err := ingest.Detect(bytes.NewReader(data))
		if r == nil {
			if err == nil || format != "" {
				t.Fatalf("no reader, format %q, err %v", format, err)
			}
			return
		}
		got, rerr := io.ReadAll(r)
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			return // gzip: the content is the decompressed stream
		}
		if rerr != nil || !bytes.Equal(got, data) {
			t.Fatalf("the reader gave %d bytes (%v), want the %d of the input", len(got), rerr, len(data))
		}
	})
}
