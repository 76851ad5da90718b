package packet

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/google/gopacket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// streamResult is what parsing a client and a server stream produced.
type streamResult struct {
	exs     []*capture.Exchange
	st      Stats
	resyncs int
	resets  int // HTTP/2 streams reset
}

// parseStreams feeds a client and a server byte stream to a connection
// whose roles are known, in chunks of the sizes sizes() returns,
// alternating between the directions; gapAt (if >= 0) puts a gap of that
// many bytes before the server's second chunk.
func parseStreams(t *testing.T, client, server []byte, sizes func() int, gap int) streamResult {
	t.Helper()
	var r streamResult
	// An Importer without reassembler: the parser is fed directly.
	im := &Importer{cfg: Config{MaxBody: 64}, out: capture.SinkFunc(func(e *capture.Exchange) error {
		r.exs = append(r.exs, e)
		return nil
	})}
	im.stats.Skipped = map[string]int{}
	c := &conn{im: im}
	for i := range c.halves {
		h := &c.halves[i]
		h.c, h.lineStart, h.synced = c, true, true
	}
	c.setRole(&c.halves[0], roleClient)
	ch, sh := &c.halves[0], &c.halves[1]
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	clk := constClock(pktInfo{ts: t0})
	chunks := 0
	for len(client) > 0 || len(server) > 0 {
		if len(client) > 0 && !c.dead {
			n := min(sizes(), len(client))
			ch.deliver(client[:n], clk)
			client = client[n:]
		}
		if len(server) > 0 && !c.dead {
			if chunks == 1 && gap > 0 {
				sh.gap(gap)
				sh.livePos += uint32(gap)
			}
			n := min(sizes(), len(server))
			sh.deliver(server[:n], clk)
			server = server[n:]
		}
		chunks++
		if c.dead {
			break
		}
	}
	c.finish()
	r.st = im.Stats()
	r.resyncs = ch.resyncs + sh.resyncs
	r.resets = im.h2Resets
	return r
}

// summary is the part of an exchange chunking must not change.
func summary(exs []*capture.Exchange) string {
	var b bytes.Buffer
	for _, e := range exs {
		fmt.Fprintf(&b, "%s %s %s %d %q %q %d %d %s|", e.Request.Method, e.Request.URL, e.Request.Proto, e.Response.Status,
			e.Request.Body, e.Response.Body, e.Request.BodySize, e.Response.BodySize, e.Flags)
	}
	return b.String()
}

// FuzzHTTPStream feeds arbitrary client and server bytes to the HTTP/1.x
// parser in arbitrary chunks. It must not panic, must account for every
// exchange, and on streams it parses without losing step the result must
// not depend on how the bytes were cut.
func FuzzHTTPStream(f *testing.F) {
	seeds := [][2]string{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 404 X\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n"},
		{"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 C\r\n\r\n"},
		{"HEAD /h HTTP/1.0\nHost: b\n\n", "HTTP/1.0 200 OK\nContent-Length: 99\n\nHTTP/1.0 200 OK\n\nuntil close"},
		{"GET http://x.test/p?q HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n", "garbage HTTP/1.1 204 N\r\n\r\n"},
		{"\x16\x03\x01\x00\x10hello", "\x16\x03\x03"},
		{"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x01x", "HTTP/1.1 101 S\r\n\r\n\x81\x01y"},
		{"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x01\x81\x01\x02\x03\x04ab\x80\x81\x01\x02\x03\x04c\x88\x80\x00\x00\x00\x00",
			"HTTP/1.1 101 S\r\nUpgrade: websocket\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00\x89\x00"},
		{"PUT /big HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + string(bytes.Repeat([]byte("b"), 100)), "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!"},
	}
	for i, s := range seeds {
		f.Add([]byte(s[0]), []byte(s[1]), uint64(i*7919+13), uint8(i))
	}
	f.Fuzz(func(t *testing.T, client, server []byte, cuts uint64, gap uint8) {
		whole := parseStreams(t, client, server, func() int { return 1 << 30 }, 0)
		state := cuts
		sizes := func() int {
			state = state*6364136223846793005 + 1442695040888963407
			return 1 + int(state>>58)
		}
		cut := parseStreams(t, client, server, sizes, 0)
		for _, r := range []streamResult{whole, cut} {
			st := r.st
			if len(r.exs) != st.Requests || st.Requests != st.Pairs+st.Incomplete+st.Unmatched {
				t.Fatalf("%d exchanges, stats %+v", len(r.exs), st)
			}
			for _, e := range r.exs {
				if e.Request.Method == "" || len(e.Request.URL) < len("http://") || e.Response.Status != 0 && e.Response.Status < 100 ||
					len(e.Request.Body) > 64 || len(e.Response.Body) > 64 {
					t.Fatalf("bad exchange %+v", e)
				}
			}
		}
		if whole.resyncs == 0 && cut.resyncs == 0 && whole.st.Orphans == 0 {
			if a, b := summary(whole.exs), summary(cut.exs); a != b {
				t.Fatalf("chunking changed the result:\nwhole %s\ncut   %s", a, b)
			}
		}
		if gap > 0 {
			parseStreams(t, client, server, sizes, int(gap))
		}
	})
}

// FuzzPacket decodes and imports arbitrary frames of every link type.
func FuzzPacket(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x00\x06\x07\x08\x09\x0a\x08\x00E\x00\x00\x28\x00\x00\x40\x00\x40\x06\x00\x00\x0a\x00\x00\x01\x0a\x00\x00\x02\x9c\x40\x00\x50\x00\x00\x03\xe8\x00\x00\x00\x00\x50\x02\xff\xff\x00\x00\x00\x00"), uint8(0))
	f.Add([]byte("\x02\x00\x00\x00`\x00\x00\x00\x00\x14\x06\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x9c\x40\x00\x50\x00\x00\x03\xe8\x00\x00\x00\x00\x50\x18\xff\xff\x00\x00\x00\x00GET / HTTP/1.1\r\n\r\n"), uint8(3))
	links := []LinkType{LinkEthernet, LinkLinuxSLL, LinkLinuxSLL2, LinkNull, LinkLoop, LinkRaw, LinkIPv4, LinkIPv6, 42}
	f.Fuzz(func(t *testing.T, data []byte, link uint8) {
		im, err := NewImporter(Config{}, capture.SinkFunc(func(*capture.Exchange) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		lt := links[int(link)%len(links)]
		ts := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		// The frame, a copy cut short, and the frame again a little later
		// (a retransmission).
		for i, d := range [][]byte{data, data[:len(data)/2], data} {
			ci := captureInfo(ts.Add(time.Duration(i)*time.Millisecond), len(d), len(data))
			if err := im.AddPacket(d, ci, lt); err != nil {
				t.Fatal(err)
			}
		}
		if err := im.Close(); err != nil {
			t.Fatal(err)
		}
		if st := im.Stats(); st.Packets != 3 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// FuzzReader reads arbitrary bytes as a capture file and imports them.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x01\x00\x00\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd"))
	f.Add([]byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a\x01\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x1c\x00\x00\x00" +
		"\x01\x00\x00\x00\x14\x00\x00\x00\x14\x01\x00\x00\x00\x00\x04\x00\x14\x00\x00\x00" +
		"\x06\x00\x00\x00\x24\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x04\x00\x00\x00abcd\x24\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewSource(bytes.NewReader(data), "")
		if err != nil {
			return
		}
		im, err := NewImporter(Config{}, capture.SinkFunc(func(*capture.Exchange) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10000; i++ {
			data, ci, link, err := src.ReadPacket()
			if err != nil {
				break
			}
			if len(data) != ci.CaptureLength || ci.Length < ci.CaptureLength {
				t.Fatalf("packet of %d bytes, capture info %+v", len(data), ci)
			}
			_ = im.AddPacket(data, ci, link)
		}
		_ = im.Close()
	})
}

func captureInfo(ts time.Time, capLen, length int) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: ts, CaptureLength: capLen, Length: length}
}

// h2Seed writes HTTP/2 frames with x/net's framer and HPACK encoder: fn
// gets the framer and a function that encodes header fields ("name",
// "value", ...) into a block.
func h2Seed(fn func(fr *http2.Framer, block func(kv ...string) []byte)) []byte {
	var out bytes.Buffer
	fr := http2.NewFramer(&out, nil)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	fn(fr, func(kv ...string) []byte {
		hb.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			_ = enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return bytes.Clone(hb.Bytes())
	})
	return out.Bytes()
}

// FuzzH2Stream feeds arbitrary HTTP/2 frames, after the client preface (or,
// with raw set, arbitrary bytes that may upgrade to h2c), to the parser in
// arbitrary chunks, like FuzzHTTPStream: no panic, every exchange accounted
// for and well-formed, and the result independent of the chunking when
// nothing was lost.
func FuzzH2Stream(f *testing.F) {
	client := h2Seed(func(fr *http2.Framer, block func(kv ...string) []byte) {
		_ = fr.WriteSettings(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 8192})
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true, EndHeaders: true,
			BlockFragment: block(":method", "GET", ":scheme", "http", ":authority", "a.test", ":path", "/x?y=1", "user-agent", "f")})
		b := block(":method", "POST", ":scheme", "http", ":authority", "a.test", ":path", "/grpc.S/M", "content-type", "application/grpc")
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: false, BlockFragment: b[:3]})
		_ = fr.WriteContinuation(3, true, b[3:])
		_ = fr.WriteDataPadded(3, true, []byte("\x00\x00\x00\x00\x02\x08\x01"), []byte{0, 0, 0})
	})
	server := h2Seed(func(fr *http2.Framer, block func(kv ...string) []byte) {
		_ = fr.WriteSettings()
		_ = fr.WriteSettingsAck()
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: block(":status", "200", "content-type", "text/plain")})
		_ = fr.WriteData(1, true, []byte("hello"))
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true, BlockFragment: block(":status", "200")})
		_ = fr.WriteData(3, false, []byte("\x00\x00\x00\x00\x00"))
		_ = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndStream: true, EndHeaders: true, BlockFragment: block("grpc-status", "0")})
		_ = fr.WriteRSTStream(5, http2.ErrCodeCancel)
		_ = fr.WriteGoAway(3, http2.ErrCodeNo, nil)
	})
	if r := parseStreams(&testing.T{}, append([]byte(h2Preface), client...), server, func() int { return 1 << 30 }, 0); len(r.exs) != 2 ||
		r.exs[0].Response.Status != 200 || string(r.exs[0].Response.Body) != "hello" || r.exs[1].Response.Trailer.Get("grpc-status") != "0" {
		f.Fatalf("the seed parses to %d exchanges: %s", len(r.exs), summary(r.exs))
	}
	f.Add(client, server, uint64(1), uint8(0), false)
	f.Add(client[:40], server[:30], uint64(77), uint8(3), false)
	upClient := append([]byte("GET /u HTTP/1.1\r\nHost: a.test\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"+h2Preface), client...)
	upServer := append([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"), server...)
	f.Add(upClient, upServer, uint64(5), uint8(0), true)
	f.Fuzz(func(t *testing.T, client, server []byte, cuts uint64, gap uint8, raw bool) {
		if !raw {
			client = append([]byte(h2Preface), client...)
		}
		whole := parseStreams(t, client, server, func() int { return 1 << 30 }, 0)
		state := cuts
		sizes := func() int {
			state = state*6364136223846793005 + 1442695040888963407
			return 1 + int(state>>58)
		}
		cut := parseStreams(t, client, server, sizes, 0)
		for _, r := range []streamResult{whole, cut} {
			st := r.st
			if len(r.exs) != st.Requests || st.Requests != st.Pairs+st.Incomplete+st.Unmatched {
				t.Fatalf("%d exchanges, stats %+v", len(r.exs), st)
			}
			for _, e := range r.exs {
				if len(e.Request.URL) < len("http://") || e.Response.Status != 0 && e.Response.Status < 100 ||
					len(e.Request.Body) > 64 || len(e.Response.Body) > 64 {
					t.Fatalf("bad exchange %+v", e)
				}
			}
		}
		lost := whole.st.Skipped[SkipHTTP2Lost] + cut.st.Skipped[SkipHTTP2Lost]
		// A reset cuts the other side's frames after it: where it falls
		// among them depends on the interleaving, as orphans do.
		if whole.resyncs == 0 && cut.resyncs == 0 && whole.st.Orphans == 0 && cut.st.Orphans == 0 && lost == 0 && whole.resets+cut.resets == 0 {
			if a, b := summary(whole.exs), summary(cut.exs); a != b {
				t.Fatalf("chunking changed the result:\nwhole %s\ncut   %s", a, b)
			}
		}
		if gap > 0 {
			parseStreams(t, client, server, sizes, int(gap))
		}
	})
}
