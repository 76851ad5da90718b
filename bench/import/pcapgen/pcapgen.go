// Package pcapgen writes synthetic packet captures of HTTP/1.1 keep-alive
// traffic for amp's import benchmarks: many clients, each on a connection
// that carries a series of requests (with cookies and the usual browser
// fields) and responses of mixed sizes, cut into full-size TCP segments and
// acknowledged as a real client would, with correct checksums.
package pcapgen

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"time"
)

// Config describes the traffic to generate.
type Config struct {
	// Size is the capture size to reach, in bytes (the last exchange is
	// finished, so the file is a little larger).
	Size int64
	// Conns is the number of connections open at once.
	Conns int
	// RequestsPerConn is how many requests a connection carries before it
	// closes and a new one (from a new port) takes its place.
	RequestsPerConn int
	// Seed makes the traffic reproducible: the same seed gives the same
	// clients, users (session cookies) and requests.
	Seed int64
	// Start is the first packet's time; zero means 2026-03-01 09:00 UTC.
	Start time.Time
	// MeanBody is the mean response body size in bytes (exponentially
	// distributed, 200 bytes to 128 KiB); zero means 16000.
	MeanBody int
}

// DefaultConfig returns a 200 MB capture of 64 parallel keep-alive
// connections of 100 requests each.
func DefaultConfig() Config {
	return Config{Size: 200 << 20, Conns: 64, RequestsPerConn: 100, Seed: 1}
}

// Stats says what was written.
type Stats struct {
	// Bytes is the size of the capture file.
	Bytes int64
	// Packets, Exchanges and Conns count what it holds.
	Packets, Exchanges, Conns int
}

const mss = 1448

// conn is one generated connection.
type conn struct {
	client     [4]byte
	port       uint16
	cseq, sseq uint32
	done       int // requests sent
	user       int
}

type writer struct {
	w        *bufio.Writer
	rng      *rand.Rand
	now      time.Time
	st       Stats
	frame    []byte
	body     []byte
	meanBody int
}

var serverIP = [4]byte{10, 1, 0, 1}

// Write writes a pcap capture (Ethernet, microsecond timestamps) to w.
func Write(w io.Writer, cfg Config) (Stats, error) {
	if cfg.Conns <= 0 || cfg.RequestsPerConn <= 0 || cfg.Size <= 0 {
		return Stats{}, fmt.Errorf("pcapgen: size, conns and requests per connection must be positive")
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	}
	g := &writer{
		w:        bufio.NewWriterSize(w, 1<<20),
		rng:      rand.New(rand.NewSource(cfg.Seed)),
		now:      cfg.Start,
		frame:    make([]byte, 0, 14+20+20+mss),
		meanBody: cfg.MeanBody,
	}
	if g.meanBody <= 0 {
		g.meanBody = 16000
	}
	// A body to slice responses from: printable, not all the same byte.
	g.body = make([]byte, 256<<10)
	for i := range g.body {
		g.body[i] = "abcdefghijklmnopqrstuvwxyz0123456789 <>/=\"\n"[g.rng.Intn(43)]
	}
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:4], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:6], 2)
	binary.LittleEndian.PutUint16(hdr[6:8], 4)
	binary.LittleEndian.PutUint32(hdr[16:20], 262144)
	binary.LittleEndian.PutUint32(hdr[20:24], 1) // Ethernet
	if _, err := g.w.Write(hdr[:]); err != nil {
		return g.st, err
	}
	g.st.Bytes = 24
	conns := make([]*conn, cfg.Conns)
	nextPort := 20000
	open := func(i int) {
		c := &conn{client: [4]byte{10, 2, byte(i >> 8), byte(i)}, port: uint16(nextPort), user: g.rng.Intn(1 << 20)}
		nextPort++
		if nextPort > 65000 {
			nextPort = 20000
		}
		c.cseq, c.sseq = g.rng.Uint32(), g.rng.Uint32()
		g.packet(c, true, "S", nil)
		c.cseq++
		g.packet(c, false, "SA", nil)
		c.sseq++
		g.packet(c, true, "A", nil)
		conns[i] = c
		g.st.Conns++
	}
	for i := range conns {
		open(i)
	}
	for g.st.Bytes < cfg.Size {
		i := g.rng.Intn(len(conns))
		c := conns[i]
		if err := g.exchange(c); err != nil {
			return g.st, err
		}
		c.done++
		if c.done == cfg.RequestsPerConn {
			g.packet(c, true, "FA", nil)
			c.cseq++
			g.packet(c, false, "FA", nil)
			c.sseq++
			g.packet(c, true, "A", nil)
			open(i)
		}
	}
	return g.st, g.w.Flush()
}

// exchange writes one request and its response, acknowledged every two
// segments.
func (g *writer) exchange(c *conn) error {
	n := g.st.Exchanges
	req := fmt.Sprintf("GET /articles/%d?page=%d HTTP/1.1\r\nHost: shop.example\r\n"+
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36\r\n"+
		"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Encoding: gzip, deflate\r\n"+
		"Accept-Language: en-GB,en;q=0.9\r\nCookie: session=%08x; theme=dark\r\n\r\n", n%5000, n%7, c.user)
	g.packet(c, true, "PA", []byte(req))
	c.cseq += uint32(len(req))
	g.now = g.now.Add(time.Duration(200+g.rng.Intn(2000)) * time.Microsecond)
	// Sizes from a few hundred bytes to 128 KiB.
	size := 200 + int(g.rng.ExpFloat64()*float64(g.meanBody))
	size = min(size, 128<<10)
	off := g.rng.Intn(len(g.body) - size)
	head := fmt.Sprintf("HTTP/1.1 200 OK\r\nDate: Sun, 01 Mar 2026 09:00:00 GMT\r\nServer: bench\r\n"+
		"Content-Type: text/html; charset=utf-8\r\nCache-Control: private, max-age=0\r\nContent-Length: %d\r\n\r\n", size)
	payload := append([]byte(head), g.body[off:off+size]...)
	for seg := 0; len(payload) > 0; seg++ {
		k := min(len(payload), mss)
		g.packet(c, false, "PA", payload[:k])
		c.sseq += uint32(k)
		payload = payload[k:]
		if seg%2 == 1 || len(payload) == 0 {
			g.packet(c, true, "A", nil)
		}
	}
	g.st.Exchanges++
	return nil
}

// packet writes one Ethernet/IPv4/TCP frame.
func (g *writer) packet(c *conn, fromClient bool, flags string, payload []byte) {
	g.now = g.now.Add(time.Duration(5+g.rng.Intn(30)) * time.Microsecond)
	src, dst := c.client, serverIP
	sport, dport := c.port, uint16(80)
	seq, ack := c.cseq, c.sseq
	if !fromClient {
		src, dst, sport, dport, seq, ack = dst, src, dport, sport, ack, seq
	}
	f := g.frame[:14+20+20]
	copy(f[0:6], []byte{2, 0, 0, 0, 0, 1})
	copy(f[6:12], []byte{2, 0, 0, 0, 0, 2})
	binary.BigEndian.PutUint16(f[12:14], 0x0800)
	ip := f[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:4], uint16(40+len(payload)))
	binary.BigEndian.PutUint16(ip[4:6], uint16(g.st.Packets))
	binary.BigEndian.PutUint16(ip[6:8], 0x4000) // don't fragment
	ip[8], ip[9] = 64, 6
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:12], ^fold(sum(0, ip)))
	tcp := f[34:54]
	binary.BigEndian.PutUint16(tcp[0:2], sport)
	binary.BigEndian.PutUint16(tcp[2:4], dport)
	binary.BigEndian.PutUint32(tcp[4:8], seq)
	var fl byte
	for _, ch := range flags {
		switch ch {
		case 'F':
			fl |= 0x01
		case 'S':
			fl |= 0x02
		case 'P':
			fl |= 0x08
		case 'A':
			fl |= 0x10
		}
	}
	if fl&0x10 != 0 {
		binary.BigEndian.PutUint32(tcp[8:12], ack)
	} else {
		binary.BigEndian.PutUint32(tcp[8:12], 0)
	}
	tcp[12], tcp[13] = 5<<4, fl
	binary.BigEndian.PutUint16(tcp[14:16], 65535)
	tcp[16], tcp[17], tcp[18], tcp[19] = 0, 0, 0, 0
	f = append(f, payload...)
	// TCP checksum over the pseudo header, header and payload.
	s := sum(0, src[:])
	s = sum(s, dst[:])
	s += 6 + uint32(20+len(payload))
	s = sum(s, f[34:])
	binary.BigEndian.PutUint16(tcp[16:18], ^fold(s))

	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:4], uint32(g.now.Unix()))
	binary.LittleEndian.PutUint32(rec[4:8], uint32(g.now.Nanosecond()/1000))
	binary.LittleEndian.PutUint32(rec[8:12], uint32(len(f)))
	binary.LittleEndian.PutUint32(rec[12:16], uint32(len(f)))
	_, _ = g.w.Write(rec[:])
	_, _ = g.w.Write(f)
	g.st.Packets++
	g.st.Bytes += int64(len(rec) + len(f))
}

// sum adds b to a ones' complement sum as 16-bit big-endian words.
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}
