package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/ampload/amp/stats/watch"
	"github.com/urfave/cli/v2"
)

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "one live view of a sharded run: every shard's /metrics, merged, as if one process ran the test",
		ArgsUsage: "URL|FILE...",
		UsageText: "amp report watch URL|FILE... [--interval 2s]\n\n" +
			"   amp report watch http://10.0.0.1:9464/metrics http://10.0.0.2:9464/metrics\n" +
			"   amp report watch shards.txt        # a file listing the shards' /metrics URLs, one a line",
		Description: "Each URL is a shard's /metrics (amp replay --metrics, or each pod of amp kube job); a\n" +
			"FILE lists such URLs, one a line (# comments). Every --interval the shards are scraped and\n" +
			"merged: counts add up, latency histograms merge bucket by bucket, the run's span is from\n" +
			"the earliest start to the latest end, so the req/s shown is what amp report merge will\n" +
			"compute from the final results. The watch ends when every shard that answered has stopped\n" +
			"answering (give the shards --metrics-linger so the last scrape sees their end), or on Ctrl-C.",
		Flags: []cli.Flag{
			&cli.DurationFlag{Name: "interval", Value: 2 * time.Second, Usage: "how often to scrape the shards"},
			&cli.StringFlag{Name: "web", Usage: "also show the view in the browser on `HOST:PORT`, e.g. 127.0.0.1:8090 (it keeps the last figures until Ctrl-C)"},
		},
		Action: runWatch,
	}
}

func runWatch(c *cli.Context) error {
	urls, err := watch.Targets(c.Args().Slice(), os.ReadFile)
	if err != nil {
		return usageError("report watch: %v", err)
	}
	interval := c.Duration("interval")
	if interval <= 0 {
		return usageError("report watch: --interval %v: want more than 0", interval)
	}
	out := c.App.Writer
	live := &watch.Live{}
	if addr := c.String("web"); addr != "" {
		stop, err := serveLive(c, addr, live)
		if err != nil {
			return err
		}
		defer stop()
	}
	tty := isTerminal(out)
	sc := &watch.Scraper{URLs: urls}
	last := sc.Watch(c.Context, interval, func(v, prev *watch.View) {
		live.Update(v, prev)
		if tty {
			fmt.Fprint(out, "\x1b[H\x1b[2J") // redraw in place
		} else if prev != nil {
			fmt.Fprintln(out)
		}
		_ = watch.Render(out, v, prev)
	})
	live.Finish(last)
	if c.Context.Err() != nil || last == nil {
		return nil
	}
	fmt.Fprintf(out, "\nthe shards stopped answering; their last figures (%s):\n", last.At.Format(time.TimeOnly))
	if err := watch.Render(out, last, nil); err != nil {
		return err
	}
	if c.String("web") != "" {
		fmt.Fprintln(out, "the page keeps them until Ctrl-C")
		<-c.Context.Done()
	}
	return nil
}

// serveLive serves the browser view of the watch on --web addr until stop.
func serveLive(c *cli.Context, addr string, live *watch.Live) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, usageError("report watch: --web %s: %v", addr, err)
	}
	srv := &http.Server{Handler: live.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Fprintf(c.App.Writer, "the watch in the browser on http://%s/\n", ln.Addr())
	return func() { _ = srv.Close() }, nil
}
