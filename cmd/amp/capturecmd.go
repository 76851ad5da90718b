package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/ingest"
	"github.com/ampload/amp/capture/packet"
	"github.com/urfave/cli/v2"
)

func captureCommand() *cli.Command {
	return &cli.Command{
		Name:  "capture",
		Usage: "record HTTP/1.x from a network interface, without a proxy (Linux, as root)",
		UsageText: "amp capture --iface IFACE [--port PORT] -o REC.amp [--duration D] [flags]\n\n" +
			"   sudo amp capture --iface lo --port 5000 -o shop.amp             # Ctrl-C stops\n" +
			"   sudo amp capture --iface eth0 --port 80 -o prod.amp --duration 10m",
		Description: "Reads packets with a raw socket (no libpcap needed; root or CAP_NET_RAW), reassembles\n" +
			"TCP and parses HTTP/1.0 and 1.1 as amp import does, writing each exchange as it\n" +
			"completes. --port filters in the kernel. On a loopback interface each packet is seen\n" +
			"twice and the copy is dropped. Ctrl-C (or the end of --duration) stops: what was\n" +
			"captured is written, requests still waiting for a response with status 0.\n" +
			"HTTPS cannot be read from packets: record it with 'amp record' instead.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "iface", Aliases: []string{"i"}, Usage: "network interface to capture on (`NAME`, e.g. lo, eth0)"},
			&cli.GenericFlag{Name: "port", Value: &multiFlag{}, Usage: "capture only TCP on this server `PORT` (repeatable, or 80,8080)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "recording to write (`FILE`, refused if it exists)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing --output file"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, DefaultText: "until Ctrl-C", Usage: "stop after this long (`DURATION`)"},
			&cli.StringFlag{Name: "max-body", Value: "1MiB", Usage: "keep this much of each body (`SIZE`); longer ones are cut and marked truncated"},
			&cli.StringFlag{Name: "session-cookie", Usage: "the application's session cookie `NAME`, for grouping requests into sessions"},
			&cli.DurationFlag{Name: "session-idle", Value: capture.DefaultSessionIdle, Usage: "a user's pause longer than this (`DURATION`) starts a new session"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no running count"},
		},
		Action: runCapture,
	}
}

func runCapture(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("capture: takes no arguments, got %q (the recording goes to -o FILE)", c.Args().First())
	}
	iface := c.String("iface")
	if iface == "" {
		return usageError("capture: --iface NAME is required: the network interface to capture on (e.g. --iface lo)")
	}
	set, err := parseImportFlags(c, "capture", nil)
	if err != nil {
		return err
	}
	if c.Duration("duration") < 0 {
		return usageError("capture: --duration %v is negative", c.Duration("duration"))
	}
	live, err := packet.OpenLive(packet.LiveConfig{Interface: iface, Ports: set.ports})
	if err != nil {
		return usageError("capture: %v", err)
	}
	defer live.Close()
	w, err := createRecording(set.out, set.force, capture.FileHeader{Source: "capture", Created: time.Now(), Tool: "amp " + c.App.Version, Options: captureOptions(c, iface, set)})
	if err != nil {
		return usageError("capture: %v", err)
	}

	ctx := c.Context
	if d := c.Duration("duration"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	filter := "all TCP"
	if len(set.ports) > 0 {
		filter = "TCP port " + strings.Join(multi(c, "port"), ",")
	}
	fmt.Fprintf(c.App.Writer, "amp capture: capturing %s on %s to %s; Ctrl-C stops\n", filter, iface, set.out)
	start := time.Now()
	status := newStatusLine(c.App.ErrWriter, c.Bool("quiet"))
	cfg := ingest.Config{Ports: set.ports, MaxBody: set.maxBody, Group: set.group, Progress: func(p ingest.Progress) {
		status.show(fmt.Sprintf("amp capture: %s, %d packets, %d requests (%d pairs), %d sessions", time.Since(start).Round(time.Second),
			p.Packets, p.Requests, p.Pairs, p.Sessions))
	}}
	is, lst, runErr := ingest.Capture(ctx, cfg, live, w)
	status.clear()
	closeErr := w.Close()
	st := is.Packets
	fmt.Fprintf(c.App.Writer, "captured %d packets (%d loopback copies dropped, %d dropped by the kernel), %d TCP streams: "+
		"%d HTTP pairs, %d incomplete, %d requests without response; %d requests in %d sessions written to %s\n",
		st.Packets, lst.Duplicates, lst.KernelDrops, st.Streams, st.Pairs, st.Incomplete, st.Unmatched, is.Requests, is.Sessions, set.out)
	switch {
	case runErr != nil:
		return recordingError("capture", runErr, set.out, closeErr, is.Requests)
	case closeErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("capture: closing %s: %v; the recording is in %s", set.out, closeErr, capture.PartialPath(set.out))}
	}
	if is.Requests > 0 {
		saveReplayFacts(c, set.out)
	}
	return nil
}

// captureOptions are the settings stored in the recording's header.
func captureOptions(c *cli.Context, iface string, set importSettings) map[string]string {
	opts := map[string]string{"iface": iface, "max-body": c.String("max-body"), "session-idle": set.group.Idle.String()}
	if c.IsSet("port") {
		opts["port"] = strings.Join(multi(c, "port"), ",")
	}
	if set.group.SessionCookie != "" {
		opts["session-cookie"] = set.group.SessionCookie
	}
	return opts
}
