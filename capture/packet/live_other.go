//go:build !linux

package packet

import (
	"context"
	"errors"
)

// Live is a live capture; only available on Linux, where gopacket reads
// packets without libpcap.
type Live struct{}

// errNoLive explains what to do instead.
var errNoLive = errors.New("live capture needs Linux; capture with tcpdump -w and use amp import")

// OpenLive fails: live capture needs Linux.
func OpenLive(cfg LiveConfig) (*Live, error) { return nil, errNoLive }

// Run fails: live capture needs Linux.
func (l *Live) Run(ctx context.Context, im *Importer, progress func(LiveStats)) (LiveStats, error) {
	return LiveStats{}, errNoLive
}

// Close does nothing.
func (l *Live) Close() error { return nil }
