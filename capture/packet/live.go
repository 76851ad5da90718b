package packet

import (
	"errors"
	"hash/maphash"
	"time"
)

// LiveConfig configures a live capture.
type LiveConfig struct {
	// Interface is the network interface to capture on, e.g. "lo", "eth0".
	Interface string
	// Ports, when set, filters in the kernel to TCP with one of these ports;
	// give the Importer the same ports.
	Ports []uint16
}

// Validate reports every problem with c at once.
func (c LiveConfig) Validate() error {
	var errs []error
	if c.Interface == "" {
		errs = append(errs, errors.New("no interface"))
	}
	if len(c.Ports) > 60 {
		errs = append(errs, errors.New("at most 60 ports"))
	}
	for _, p := range c.Ports {
		if p == 0 {
			errs = append(errs, errors.New("port 0 is not a TCP port"))
		}
	}
	return errors.Join(errs...)
}

// LiveStats counts what a live capture saw besides what the Importer counts.
type LiveStats struct {
	// Duplicates counts loopback packets seen twice (sent and received) and
	// dropped.
	Duplicates int64
	// KernelDrops counts packets the kernel dropped because the capture did
	// not read fast enough.
	KernelDrops int64
}

// dedup recognises the second copy of a packet: on a loopback interface a
// raw socket sees each packet once going out and once coming in, a few
// microseconds apart. A genuine retransmission comes hundreds of
// milliseconds later and is kept.
type dedup struct {
	seed   maphash.Seed
	recent [32]struct {
		sum uint64
		ts  time.Time
	}
	next int
}

// dupWindow is how close in time two identical packets must be to count as
// one.
const dupWindow = 5 * time.Millisecond

func newDedup() *dedup { return &dedup{seed: maphash.MakeSeed()} }

// seen reports whether data is a copy of a packet seen within dupWindow, and
// remembers it otherwise.
func (d *dedup) seen(data []byte, ts time.Time) bool {
	sum := maphash.Bytes(d.seed, data)
	for i := range d.recent {
		r := &d.recent[i]
		if r.sum == sum && !r.ts.IsZero() && ts.Sub(r.ts) < dupWindow && r.ts.Sub(ts) < dupWindow {
			r.ts = time.Time{} // a third copy is a retransmission
			return true
		}
	}
	d.recent[d.next].sum, d.recent[d.next].ts = sum, ts
	d.next = (d.next + 1) % len(d.recent)
	return false
}
