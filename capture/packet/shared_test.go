package packet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
	"github.com/ampload/amp/internal/testenv"
)

// importFile imports one capture file.
func importFile(t *testing.T, path string) ([]*capture.Exchange, packet.Stats, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src := sourceOf(t, f)
	var out []*capture.Exchange
	im, err := packet.NewImporter(packet.Config{}, capture.SinkFunc(func(e *capture.Exchange) error {
		out = append(out, e)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	rerr := im.Read(context.Background(), src, nil)
	if err := im.Close(); err != nil {
		t.Fatal(err)
	}
	return out, im.Stats(), rerr
}

// TestSharedCaptures imports every capture of ../shared/testdata/pcap and
// checks the true counts (SOURCES.md; tshark's where it is right) and a few
// exchanges of each.
//
// Where amp's answer differs from tshark's, the row says why; each of these
// was checked against the bytes of the capture.
func TestSharedCaptures(t *testing.T) {
	dir := testenv.SharedTestdata(t, "pcap")
	type spot struct {
		method, url string
		status      int
		flags       capture.Flags
	}
	tests := []struct {
		file string
		// requests = pairs + incomplete + unmatched
		requests, pairs, incomplete, unmatched int
		cut                                    bool // the file ends inside a packet
		spots                                  []spot
		check                                  func(t *testing.T, exs []*capture.Exchange, st packet.Stats)
	}{
		{file: "arkime__http-empty-useragent.pcap", requests: 1, pairs: 1,
			spots: []spot{{"GET", "http://[::1]:9200/", 200, 0}},
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				// Bare LF line ends, an empty User-Agent, a body that ends
				// with the connection.
				e := exs[0]
				if len(e.Request.Header.Values("User-Agent")) != 1 || e.Request.Header.Get("User-Agent") != "" ||
					e.Response.BodySize != 489 || !strings.HasPrefix(string(e.Response.Body), "{") {
					t.Errorf("header %v, body %d bytes", e.Request.Header, e.Response.BodySize)
				}
			}},
		// tshark counts 6 responses: two are retransmitted copies.
		{file: "arkime__wireshark-retrans.pcap", requests: 4, pairs: 4,
			spots: []spot{{"POST", "http://172.17.96.77:4000/exhmedmx", 200, 0}},
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				for _, e := range exs {
					if e.Request.BodySize < 1000 || !strings.HasPrefix(string(e.Request.Body), "<NWIXML:notification") {
						t.Errorf("request body %d bytes: %.20q", e.Request.BodySize, e.Request.Body)
					}
				}
			}},
		// The first connection was open before the capture started.
		{file: "gopacket__test_loopback.pcap", requests: 3, pairs: 3,
			spots: []spot{{"GET", "http://localhost:8080/pkg/github.com/gconnell/gopacket/", 200, 0}, {"GET", "http://localhost:8080/doc/style.css", 304, 0}}},
		{file: "mikekap-pcap2har__http-chunked-gzip.pcap", requests: 1, pairs: 1,
			spots: []spot{{"GET", "http://www.wireshark.org:8080/", 200, 0}},
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				// De-chunked, still gzip-encoded as on the wire.
				if b := exs[0].Response.Body; len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
					t.Errorf("body does not start with the gzip magic: %.8x", b)
				}
			}},
		{file: "ndpi__KakaoTalk_chat.pcap", requests: 2, pairs: 2,
			spots: []spot{{"GET", "http://www.facebook.com/mobile/status.php", 204, 0}},
			check: func(t *testing.T, _ []*capture.Exchange, st packet.Stats) {
				if st.Skipped[packet.SkipTLS] < 10 {
					t.Errorf("TLS connections skipped: %v", st.Skipped)
				}
			}},
		{file: "ndpi__http_ua_splitted_in_two_pkts.pcapng", requests: 37, pairs: 37,
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				for _, e := range exs {
					if ua := e.Request.Header.Get("User-Agent"); !strings.HasPrefix(ua, "Mozilla/") || strings.ContainsAny(ua, "\r\n") {
						t.Errorf("User-Agent split across segments read as %q", ua)
					}
				}
			}},
		// Sampled: no SYNs, most responses missing.
		{file: "ndpi__quickplay.pcap", requests: 82, pairs: 11, unmatched: 71,
			spots: []spot{{"POST", "http://hkextshort.weixin.qq.com/cgi-bin/micromsg-bin/mmbatchemojidownload", 200, 0}}},
		{file: "ndpi__webdav.pcap", requests: 16, pairs: 16,
			spots: []spot{{"PROPFIND", "http://104.156.149.6/webdav/", 207, 0}, {"COPY", "http://www.dlp-test.com/webdav", 401, 0}},
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				methods := map[string]bool{}
				for _, e := range exs {
					methods[e.Request.Method] = true
				}
				for _, m := range []string{"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK"} {
					if !methods[m] {
						t.Errorf("no %s", m)
					}
				}
			}},
		{file: "pcap2har__http.pcap", requests: 2, pairs: 2,
			spots: []spot{{"GET", "http://www.ethereal.com/download.html", 200, 0}}},
		// tshark finds 237 responses: it misses the 47 of a connection whose
		// server answered the retransmitted SYN with a new sequence number
		// (client port 43942) and 3 that start out of order. Every response
		// is in the capture, and its type matches its request.
		{file: "pcap2har__out-of-order.pcap.gz", requests: 287, pairs: 287, cut: true,
			spots: []spot{{"GET", "http://www.ynet.co.il/images/wb3_pc.gif", 200, 0}, {"GET", "http://www.ynet.co.il/favicon.ico", 200, 0}}},
		{file: "scapy__http_head.pcapng", requests: 1, pairs: 1,
			spots: []spot{{"HEAD", "http://google.com/", 301, 0}},
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				if r := exs[0].Response; r.Header.Get("Content-Length") != "219" || len(r.Body) != 0 {
					t.Errorf("HEAD response: %v, %d body bytes", r.Header, len(r.Body))
				}
			}},
		// Pipelined 7 to 9 deep; paired in order.
		{file: "suricata-verify__http-protocol-nodup.pcap", requests: 40, pairs: 40,
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				for _, e := range exs {
					if e.Response.Status != 404 {
						t.Errorf("%s -> %d", e.Request.URL, e.Response.Status)
					}
				}
			}},
		{file: "suricata-verify__http-range-multiflows.pcap", requests: 41, pairs: 41,
			spots: []spot{{"GET", "http://127.0.0.1:8000/mqtt5_pub_jpeg.pcap", 206, 0}}},
		// SOURCES.md (from tshark) says 4 requests have no response; all 37
		// do. Three responses come with out-of-order segments tshark does
		// not reassemble (client ports 60040, 60044, 60053), the fourth on
		// a connection that reuses the ports of one reset 3 s before
		// (60064): 404 for /images/items/250/57142.jpg.
		{file: "suricata-verify__tls-subjectaltname.pcap", requests: 37, pairs: 37,
			spots: []spot{{"GET", "http://api.tretti.com/images/items/250/57142.jpg", 404, 0},
				{"GET", "http://kaffetildig.dk/wp-content/uploads/2015/07/Senseo-Classic-16-antal-p.png", 200, 0}},
			check: func(t *testing.T, _ []*capture.Exchange, st packet.Stats) {
				if st.Skipped[packet.SkipTLS] < 30 {
					t.Errorf("TLS connections skipped: %v", st.Skipped)
				}
			}},
		// Snap length 96: the request line survives up to "HTT".
		{file: "zeek__communityid_tcp.pcap", requests: 1, incomplete: 1,
			spots: []spot{{"GET", "http://66.35.250.204/images/sf.net_box.gif", 200, capture.FlagIncomplete}}},
		// The 100 Continue is interim; 1 pair.
		{file: "zeek__http_100-continue.pcap", requests: 1, pairs: 1,
			spots: []spot{{"POST", "http://www.osu.edu/", 200, 0}},
			check: func(t *testing.T, exs []*capture.Exchange, st packet.Stats) {
				if st.Interim != 1 || exs[0].Request.BodySize != 2001 {
					t.Errorf("interim %d, request body %d", st.Interim, exs[0].Request.BodySize)
				}
			}},
		// The first response's headers are not in the capture.
		{file: "zeek__http_1000-requests-one-dropped-response.pcap", requests: 1000, pairs: 999, unmatched: 1,
			check: func(t *testing.T, exs []*capture.Exchange, _ packet.Stats) {
				if exs[0].Response.Status != 0 || exs[0].Flags != capture.FlagNoResponse|capture.FlagIncomplete {
					t.Errorf("first exchange: %d [%s]", exs[0].Response.Status, exs[0].Flags)
				}
			}},
		// A segment of one body is missing: 30 pairs and 1 incomplete.
		{file: "zeek__http_bro.org.pcap", requests: 31, pairs: 30, incomplete: 1,
			spots: []spot{{"GET", "http://bro.org/js/jquery.cycle.all.min.js", 200, capture.FlagIncomplete}}},
		{file: "zeek__wikipedia.pcap", requests: 15, pairs: 15,
			spots: []spot{{"GET", "http://upload.wikimedia.org/wikipedia/commons/6/63/Wikipedia-logo.png", 304, 0}}},
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			exs, st, err := importFile(t, filepath.Join(dir, tc.file))
			if tc.cut != errors.Is(err, packet.ErrTruncated) || err != nil && !tc.cut {
				t.Errorf("read error %v, cut %v", err, tc.cut)
			}
			if st.Requests != len(exs) || st.Requests != tc.requests || st.Pairs != tc.pairs ||
				st.Incomplete != tc.incomplete || st.Unmatched != tc.unmatched {
				t.Errorf("requests %d (%d exchanges), pairs %d, incomplete %d, unmatched %d; want %d, %d, %d, %d",
					st.Requests, len(exs), st.Pairs, st.Incomplete, st.Unmatched, tc.requests, tc.pairs, tc.incomplete, tc.unmatched)
			}
			for _, s := range tc.spots {
				i := slices.IndexFunc(exs, func(e *capture.Exchange) bool {
					return e.Request.Method == s.method && e.Request.URL == s.url
				})
				if i < 0 {
					t.Errorf("no %s %s", s.method, s.url)
					continue
				}
				if e := exs[i]; e.Response.Status != s.status || e.Flags != s.flags {
					t.Errorf("%s %s -> %d [%s], want %d [%s]", s.method, s.url, e.Response.Status, e.Flags, s.status, s.flags)
				}
			}
			for _, e := range exs {
				if e.Start.IsZero() || e.Client == "" || !strings.HasPrefix(e.Request.URL, "http://") {
					t.Errorf("exchange without start, client or absolute URL: %+v", e)
					break
				}
			}
			if tc.check != nil && len(exs) > 0 {
				tc.check(t, exs, st)
			}
		})
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no row in this test", filepath.Base(f))
		}
	}
}
