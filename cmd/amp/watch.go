package main

import (
	"fmt"
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
	tty := isTerminal(out)
	sc := &watch.Scraper{URLs: urls}
	last := sc.Watch(c.Context, interval, func(v, prev *watch.View) {
		if tty {
			fmt.Fprint(out, "\x1b[H\x1b[2J") // redraw in place
		} else if prev != nil {
			fmt.Fprintln(out)
		}
		_ = watch.Render(out, v, prev)
	})
	if c.Context.Err() == nil && last != nil {
		fmt.Fprintf(out, "\nthe shards stopped answering; their last figures (%s):\n", last.At.Format(time.TimeOnly))
		return watch.Render(out, last, nil)
	}
	return nil
}
