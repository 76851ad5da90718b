package packet_test

import (
	"testing"

	"github.com/ampload/amp/capture/packet"
)

// FuzzTCPFlows builds a connection from arbitrary client and server bytes,
// cut into segments, then reorders, duplicates and drops segments as the
// fuzzer decides, and imports the capture. Nothing may panic, and every
// exchange must be accounted for.
func FuzzTCPFlows(f *testing.F) {
	f.Add([]byte(getA+getB), []byte(resp(200, "x")+resp(304, "")), uint64(0x5a5a_1234_8765_ffff))
	f.Add([]byte("POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"), []byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbody until close"), uint64(7))
	f.Add([]byte(getA), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), uint64(1<<63|99))
	f.Fuzz(func(t *testing.T, client, server []byte, ops uint64) {
		if len(client)+len(server) > 1<<14 {
			return
		}
		state := ops
		next := func(n uint64) uint64 {
			state = state*6364136223846793005 + 1442695040888963407
			return (state >> 33) % n
		}
		b := newBuilder(t, packet.LinkEthernet)
		c := b.conn("10.0.0.1:40000", "10.0.0.2:80")
		if next(4) != 0 {
			c.handshake()
		} else {
			c.midStream()
		}
		for len(client) > 0 || len(server) > 0 {
			if n := min(len(client), int(1+next(600))); n > 0 {
				c.send(true, string(client[:n]))
				client = client[n:]
			}
			if n := min(len(server), int(1+next(1500))); n > 0 {
				c.send(false, string(server[:n]))
				server = server[n:]
			}
		}
		if next(2) == 0 {
			c.fin(true)
			c.fin(false)
		}
		for i := len(b.frames) - 1; i > 0; i-- {
			switch next(8) {
			case 0: // swap with the previous frame
				b.frames[i], b.frames[i-1] = b.frames[i-1], b.frames[i]
			case 1: // duplicate (a retransmission)
				b.frames = append(b.frames, b.frames[i])
			case 2: // drop
				b.frames = append(b.frames[:i], b.frames[i+1:]...)
			}
		}
		exs, st, err := importBytes(t, b.pcap(int(next(3))*80), packet.Config{MaxBody: 256})
		if err != nil {
			t.Fatal(err)
		}
		if len(exs) != st.Requests || st.Requests != st.Pairs+st.Incomplete+st.Unmatched || st.Streams > 2 {
			t.Fatalf("%d exchanges, stats %+v", len(exs), st)
		}
		for _, e := range exs {
			if e.Request.Method == "" || e.Client != "10.0.0.1:40000" && e.Client != "10.0.0.2:80" || e.Duration < e.TTFB {
				t.Fatalf("bad exchange %+v", e)
			}
		}
	})
}
