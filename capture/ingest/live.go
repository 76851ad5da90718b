package ingest

import (
	"context"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
)

// Capture imports the packets of a live capture (packet.OpenLive) until ctx
// ends, as Import does a file's: grouped into sessions and written to sink,
// which is flushed after every exchange (capture.Flush), so that a kill -9
// loses at most the exchanges in flight. When ctx ends it writes what the
// connections still hold (requests still waiting, with status 0) and
// returns. Config.Progress is called about every 200 ms, with Path, Read and
// Size empty. The error is the first of reading, the sink's ("writing the
// recording: ...") and the final flush of the connections.
func Capture(ctx context.Context, cfg Config, live *packet.Live, sink capture.Sink) (Stats, packet.LiveStats, error) {
	p, err := newPipeline(cfg, sink)
	if err != nil {
		return Stats{}, packet.LiveStats{}, err
	}
	p.flushEach = true
	lst, runErr := live.Run(ctx, p.im, func(packet.LiveStats) { p.progress("", 0, 0) })
	closeErr := p.im.Close()
	if runErr != nil {
		return p.stats(), lst, runErr
	}
	return p.stats(), lst, closeErr
}
