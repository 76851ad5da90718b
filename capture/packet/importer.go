package packet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/reassembly"
)

// Defaults of Config.
const (
	// DefaultMaxBody is the number of body bytes kept per message.
	DefaultMaxBody = 1 << 20
	// DefaultGapTimeout is how much capture time the reassembler waits for a
	// missing segment (a retransmission) before skipping over the gap.
	DefaultGapTimeout = 5 * time.Second
	// DefaultIdleTimeout is how much capture time a connection may go without
	// packets before it is closed and its waiting requests written without
	// response.
	DefaultIdleTimeout = 5 * time.Minute
)

// Memory bounds of the reassembler: out-of-order data kept per connection
// and in total, in pages of 1900 bytes (about 7.6 MB and 62 MB).
const (
	maxPagesPerConn = 4096
	maxPagesTotal   = 32768
	flushEvery      = time.Second // of capture time
)

// Config configures an Importer.
type Config struct {
	// Ports restricts the import to TCP connections with one of these ports
	// at either end, which is taken as the server's. Empty means any port:
	// HTTP is recognised by content.
	Ports []uint16
	// MaxBody is the number of body bytes kept per message. A longer body is
	// cut and flagged; its full size is kept and, for a response, its
	// SHA-256. Zero means DefaultMaxBody.
	MaxBody int
	// GapTimeout is how much capture time to wait for a missing TCP segment
	// before skipping over it. Zero means DefaultGapTimeout.
	GapTimeout time.Duration
	// IdleTimeout is how much capture time a connection may go without
	// packets before it is closed. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration
}

// Validate reports every problem with c at once.
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.Ports {
		if p == 0 {
			errs = append(errs, errors.New("port 0 is not a TCP port"))
		}
	}
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("max body %d is negative", c.MaxBody))
	}
	if c.GapTimeout < 0 {
		errs = append(errs, fmt.Errorf("gap timeout %v is negative", c.GapTimeout))
	}
	if c.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("idle timeout %v is negative", c.IdleTimeout))
	}
	return errors.Join(errs...)
}

// Stats counts what an Importer saw. Requests = Pairs + Incomplete +
// Unmatched.
type Stats struct {
	// Packets and Bytes count the packets read and their captured bytes.
	Packets, Bytes int64
	// NonTCP counts packets that are not TCP over IPv4 or IPv6 (ARP, UDP, ...).
	NonTCP int64
	// OtherPorts counts TCP packets outside Config.Ports.
	OtherPorts int64
	// Fragments counts IP fragments, which are not reassembled.
	Fragments int64
	// Malformed counts packets whose headers do not decode.
	Malformed int64
	// Truncated counts packets cut by the capture's snap length; what they
	// lack becomes a gap.
	Truncated int64
	// Unsupported counts packets by link type that cannot be decoded.
	Unsupported map[string]int64

	// Streams counts TCP connections that carried a SYN or data.
	Streams int
	// HTTPStreams counts connections with at least one HTTP message.
	HTTPStreams int
	// Skipped counts connections with data but no HTTP, by reason: SkipTLS,
	// SkipHTTP2, SkipHTTP2Lost, SkipNotHTTP, SkipMidStream.
	Skipped map[string]int

	// Requests counts the exchanges handed over.
	Requests int
	// Pairs counts complete request/response pairs.
	Pairs int
	// Incomplete counts exchanges with a response but bytes missing (a gap,
	// the snap length, a message cut by the end of the capture).
	Incomplete int
	// Unmatched counts requests without a response (status 0).
	Unmatched int
	// Orphans counts responses whose request the capture lacks.
	Orphans int
	// Interim counts 1xx responses that preceded a final one.
	Interim int
}

func (s Stats) clone() Stats {
	s.Unsupported = maps.Clone(s.Unsupported)
	s.Skipped = maps.Clone(s.Skipped)
	return s
}

// Importer turns captured packets into exchanges: it decodes link, IP and TCP
// headers, reassembles each TCP connection with gopacket's reassembly, parses
// both directions as HTTP/1.x in the same goroutine, pairs responses with
// requests in order and hands each exchange over as soon as it is complete.
// Time is the packets' own: flushing never looks at the wall clock.
//
// An Importer is not safe for concurrent use.
type Importer struct {
	cfg   Config
	ports []uint16
	out   capture.Sink

	dec   decoder
	pool  *reassembly.StreamPool
	asm   *reassembly.Assembler
	stats Stats

	latest, lastFlush time.Time
	err               error
	closed            bool

	// gens holds the generation of connections whose address and ports were
	// reused while the reassembler still held the previous connection;
	// reused is set by a conn that saw such a new SYN.
	gens   map[tupleKey]int
	reused bool

	sgClock  sgClock  // reused by conn.ReassembledSG
	h2Resets int      // HTTP/2 streams reset (RST_STREAM), for the fuzz tests
	ctxs     []pktCtx // a slab of packet contexts, allocated 256 at a time
}

// newPktCtx returns a packet context from the slab. Contexts stay alive as
// long as the reassembler keeps a page of theirs (out-of-order data).
func (im *Importer) newPktCtx() *pktCtx {
	if len(im.ctxs) == 0 {
		im.ctxs = make([]pktCtx, 256)
	}
	pc := &im.ctxs[0]
	im.ctxs = im.ctxs[1:]
	return pc
}

// NewImporter returns an Importer that writes each exchange to out, in the
// order the exchanges complete. An error from out stops the import and is
// returned by the next AddPacket, Read or Close.
func NewImporter(cfg Config, out capture.Sink) (*Importer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.GapTimeout == 0 {
		cfg.GapTimeout = DefaultGapTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	im := &Importer{cfg: cfg, ports: cfg.Ports, out: out}
	im.stats.Skipped = make(map[string]int)
	im.stats.Unsupported = make(map[string]int64)
	im.pool = reassembly.NewStreamPool(factory{im})
	im.asm = reassembly.NewAssembler(im.pool)
	im.asm.MaxBufferedPagesPerConnection = maxPagesPerConn
	im.asm.MaxBufferedPagesTotal = maxPagesTotal
	return im, nil
}

// factory creates a conn per TCP connection (reassembly.StreamFactory).
type factory struct{ im *Importer }

// New implements reassembly.StreamFactory.
func (f factory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	return newConn(f.im, netFlow, tcpFlow, tcp)
}

// Stats returns a copy of the counters so far.
func (im *Importer) Stats() Stats { return im.stats.clone() }

func (im *Importer) portWanted(p uint16) bool {
	for _, w := range im.ports {
		if w == p {
			return true
		}
	}
	return false
}

// AddPacket imports one packet of the given link type. data is not kept after
// the call.
func (im *Importer) AddPacket(data []byte, ci gopacket.CaptureInfo, link LinkType) error {
	if im.err != nil {
		return im.err
	}
	if im.closed {
		return errors.New("packet: AddPacket after Close")
	}
	im.stats.Packets++
	im.stats.Bytes += int64(len(data))
	switch im.dec.decode(data, link) {
	case resultTCP:
	case resultOther:
		im.stats.NonTCP++
		return nil
	case resultFragment:
		im.stats.Fragments++
		return nil
	case resultShort:
		im.stats.Truncated++
		return nil
	case resultLinkType:
		im.stats.Unsupported[link.String()]++
		return nil
	default:
		im.stats.Malformed++
		return nil
	}
	tcp := &im.dec.tcp
	if len(im.ports) > 0 && !im.portWanted(uint16(tcp.SrcPort)) && !im.portWanted(uint16(tcp.DstPort)) {
		im.stats.OtherPorts++
		return nil
	}
	pc := im.newPktCtx()
	*pc = pktCtx{ci: ci, ack: tcp.Ack, hasAck: tcp.ACK, captured: len(tcp.Payload), missing: im.dec.missing}
	pc.self[0] = pc
	pc.ci.AncillaryData = pc.self[:]
	if pc.missing > 0 {
		// Keep the sequence numbers right: pad what the snap length cut off.
		// The connection turns the padding into a gap.
		im.stats.Truncated++
		padded := make([]byte, len(tcp.Payload)+pc.missing)
		copy(padded, tcp.Payload)
		tcp.Payload = padded
	}
	im.tick(ci.Timestamp)
	netFlow := im.dec.netFlow
	if len(im.gens) > 0 {
		if g, ok := im.gens[im.dec.tuple()]; ok {
			netFlow = im.dec.flowGen(g)
		}
	}
	im.asm.AssembleWithContext(netFlow, tcp, pc)
	if im.reused {
		// The packet opened a new connection on the same addresses and
		// ports: give it a new generation and assemble it there.
		im.reused = false
		if im.gens == nil {
			im.gens = make(map[tupleKey]int)
		}
		k := im.dec.tuple()
		im.gens[k]++
		im.asm.AssembleWithContext(im.dec.flowGen(im.gens[k]), tcp, pc)
	}
	return im.err
}

// tick advances the capture clock and flushes what waited too long.
func (im *Importer) tick(ts time.Time) {
	if ts.IsZero() {
		return
	}
	if im.latest.IsZero() {
		im.latest, im.lastFlush = ts, ts
		return
	}
	if ts.Before(im.latest.Add(-im.cfg.IdleTimeout)) {
		// Far back in time: another capture. Close what the previous one
		// left open and start the clock again.
		im.asm.FlushAll()
		im.latest, im.lastFlush = ts, ts
		return
	}
	if ts.After(im.latest) {
		im.latest = ts
	}
	if im.latest.Sub(im.lastFlush) >= flushEvery {
		im.asm.FlushWithOptions(reassembly.FlushOptions{
			T:  im.latest.Add(-im.cfg.GapTimeout),
			TC: im.latest.Add(-im.cfg.IdleTimeout),
		})
		im.lastFlush = im.latest
	}
}

// deliver counts an exchange and hands it over.
func (im *Importer) deliver(e *capture.Exchange) {
	if im.err != nil {
		return
	}
	im.stats.Requests++
	switch {
	case e.Response.Status == 0:
		im.stats.Unmatched++
	case e.Flags&capture.FlagIncomplete != 0:
		im.stats.Incomplete++
	default:
		im.stats.Pairs++
	}
	if err := im.out.Write(e); err != nil {
		im.err = err
	}
}

// Read imports every packet of src until its end. It checks ctx and calls
// progress (if not nil) every few thousand packets. A capture cut short
// returns a *ReadError matching ErrTruncated after importing every whole
// packet; the Importer stays usable.
func (im *Importer) Read(ctx context.Context, src Source, progress func()) error {
	for i := 0; ; i++ {
		if i&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if progress != nil {
				progress()
			}
		}
		data, ci, link, err := src.ReadPacket()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := im.AddPacket(data, ci, link); err != nil {
			return err
		}
	}
}

// Close ends the import: every connection still open is flushed, and the
// exchanges it holds (requests without response included) are handed over.
func (im *Importer) Close() error {
	if !im.closed {
		im.closed = true
		im.asm.FlushAll()
	}
	return im.err
}
