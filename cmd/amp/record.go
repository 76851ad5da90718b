package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/proxy"
	"github.com/urfave/cli/v2"
)

func recordCommand() *cli.Command {
	def := proxy.DefaultConfig()
	return &cli.Command{
		Name:  "record",
		Usage: "record real traffic through a proxy (HTTP, HTTPS by MITM, or reverse) into a recording",
		UsageText: "amp record -o FILE [--target URL] [--listen HOST:PORT] [flags]\n\n" +
			"   amp record -o shop.amp                                  # forward proxy on 127.0.0.1:8080\n" +
			"   curl -x http://127.0.0.1:8080 --cacert ~/.config/amp/ca.pem https://shop.local/\n" +
			"   amp record -o shop.amp --target http://localhost:5000   # reverse proxy: browse http://127.0.0.1:8080\n" +
			"   amp record -o shop.amp --skip-static --exclude-host '*.google-analytics.com' --redact-header Authorization\n" +
			"   amp record -o shop.amp --listen 0.0.0.0:8080 --allow-remote 192.168.1.0/24",
		Description: "Forward mode (default) is an HTTP proxy: plain HTTP is recorded as it passes and HTTPS is\n" +
			"decrypted with a local CA that 'amp ca' shows how to trust (--no-mitm tunnels it unrecorded).\n" +
			"Reverse mode (--target) forwards everything to one site, for clients without proxy settings.\n" +
			"Each exchange is written as soon as its response completes, so a crash or kill -9 loses at\n" +
			"most the exchanges in flight; Ctrl-C stops accepting, finishes in-flight exchanges (up to\n" +
			"--stop-timeout) and closes the recording. Sizes take k, M, G suffixes (binary).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "recording to write (`FILE`, refused if it exists)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing --output file"},
			&cli.StringFlag{Name: "listen", Value: def.Listen, Usage: "address to listen on (`HOST:PORT`; port 0 picks one)"},
			&cli.StringFlag{Name: "target", Usage: "reverse mode: forward every request to this `URL`"},
			&cli.GenericFlag{Name: "allow-remote", Value: &multiFlag{}, Usage: "let clients from this `CIDR` connect (repeatable); needed for a non-loopback --listen"},
			&cli.BoolFlag{Name: "no-mitm", Usage: "tunnel HTTPS without decrypting or recording it"},
			&cli.StringFlag{Name: "ca-cert", Usage: "CA certificate `FILE` for HTTPS (default: amp's CA in the user config dir)"},
			&cli.StringFlag{Name: "ca-key", Usage: "CA key `FILE`, with --ca-cert"},
			&cli.StringFlag{Name: "upstream-ca", Usage: "also trust the CA certificates in this PEM `FILE` upstream"},
			&cli.BoolFlag{Name: "insecure-upstream", Usage: "do not verify upstream TLS certificates"},
			&cli.DurationFlag{Name: "upstream-timeout", Value: def.UpstreamTimeout, Usage: "wait this long for an upstream's response header (0 = forever)"},
			&cli.StringFlag{Name: "max-body", Value: "1MiB", Usage: "keep this much of each body (`SIZE`); the rest streams through, marked truncated"},
			&cli.StringFlag{Name: "session-cookie", Usage: "the application's session cookie `NAME`, for grouping requests into sessions"},
			&cli.DurationFlag{Name: "session-idle", Value: def.SessionIdle, Usage: "a user's pause longer than this starts a new session"},
			&cli.GenericFlag{Name: "include-host", Value: &multiFlag{}, Usage: "record only these hosts (`HOST`, host:port or *.domain; repeatable)"},
			&cli.GenericFlag{Name: "exclude-host", Value: &multiFlag{}, Usage: "do not record this `HOST` (repeatable); its HTTPS is tunnelled"},
			&cli.GenericFlag{Name: "exclude-path", Value: &multiFlag{}, Usage: "do not record URL paths matching this `REGEX` (repeatable)"},
			&cli.BoolFlag{Name: "skip-static", Usage: "do not record images, fonts, CSS and JavaScript"},
			&cli.GenericFlag{Name: "redact-header", Value: &multiFlag{}, Usage: "replace this header's values in the recording (`NAME`, repeatable)"},
			&cli.DurationFlag{Name: "stop-timeout", Value: def.StopTimeout, Usage: "on Ctrl-C, wait this long for in-flight exchanges"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no status line"},
		},
		Action: runRecord,
	}
}

func runRecord(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("record: takes no arguments, got %q (the recording goes to -o FILE)", c.Args().First())
	}
	out := c.String("output")
	if out == "" {
		return usageError("record: -o FILE is required: where to write the recording (e.g. -o shop.amp)")
	}
	cfg, err := recordConfig(c)
	if err != nil {
		return err
	}
	inputs := []string{cfg.UpstreamCA}
	if cert, key, err := proxy.CAPaths(cfg.CACert, cfg.CAKey); err == nil {
		inputs = append(inputs, cert, key) // the default CA too
	}
	plan := outfile.Plan{Inputs: inputs, Force: c.Bool("force"),
		Outputs: []outfile.Output{{Flag: "-o", Path: out, Kind: outfile.Recording}}}
	if err := plan.Check(); err != nil {
		return usageError("record: %v", err)
	}

	stderr := c.App.ErrWriter
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rec, err := proxy.New(cfg, proxy.WithLogger(logger))
	if err != nil {
		return usageError("record: %v", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return usageError("record: --listen %s: %v", cfg.Listen, err)
	}
	defer ln.Close()

	header := capture.FileHeader{Source: "proxy", Created: time.Now(), Tool: "amp " + c.App.Version, Options: recordOptions(c, cfg)}
	w, err := createRecording(out, c.Bool("force"), header)
	if err != nil {
		return usageError("record: %v", err)
	}
	stdout := c.App.Writer
	announceRecord(stdout, cfg, ln.Addr().String(), out, rec.CA())

	status := newStatusLine(stderr, c.Bool("quiet"))
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		status.watch(ctx, func() string { return formatStatus(rec.Stats()) })
	}()
	served := make(chan struct{})
	// Say why a stop takes a moment; a second Ctrl-C cuts it short.
	go onSecondInterrupt(c.Context, served, systemInterrupts, func() {
		if n := rec.Stats().InFlight; n > 0 {
			status.println(fmt.Sprintf("amp record: stopping: finishing %d exchanges in flight (up to %v; Ctrl-C again to stop now)", n, cfg.StopTimeout))
		}
	}, rec.StopNow)
	serveErr := rec.Serve(c.Context, ln, w)
	close(served)
	cancel()
	<-statusDone
	closeErr := w.Close()
	st := rec.Stats()
	status.clear()
	fmt.Fprintf(stdout, "recorded %s in %s to %s%s\n", plural(int(st.Requests), "request"), plural(int(st.Sessions), "session"), out, summaryNotes(st))
	switch {
	case serveErr != nil:
		return recordingError("record", serveErr, out, closeErr, int(st.Requests))
	case closeErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("record: closing %s: %v; the recording is in %s", out, closeErr, capture.PartialPath(out))}
	}
	if st.Requests > 0 {
		saveReplayFacts(c, out)
	}
	return nil
}

// recordConfig translates the record flags into the proxy's Config.
func recordConfig(c *cli.Context) (proxy.Config, error) {
	maxBody, err := parseSize(c.String("max-body"))
	if err != nil {
		return proxy.Config{}, usageError("record: --max-body %q: %v", c.String("max-body"), err)
	}
	cfg := proxy.Config{
		Listen:           c.String("listen"),
		AllowRemote:      multi(c, "allow-remote"),
		Target:           c.String("target"),
		NoMITM:           c.Bool("no-mitm"),
		CACert:           c.String("ca-cert"),
		CAKey:            c.String("ca-key"),
		UpstreamCA:       c.String("upstream-ca"),
		InsecureUpstream: c.Bool("insecure-upstream"),
		UpstreamTimeout:  c.Duration("upstream-timeout"),
		MaxBody:          maxBody,
		SessionCookie:    c.String("session-cookie"),
		SessionIdle:      c.Duration("session-idle"),
		IncludeHosts:     multi(c, "include-host"),
		ExcludeHosts:     multi(c, "exclude-host"),
		ExcludePaths:     multi(c, "exclude-path"),
		SkipStatic:       c.Bool("skip-static"),
		RedactHeaders:    multi(c, "redact-header"),
		StopTimeout:      c.Duration("stop-timeout"),
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError("record: %v", oneLine(err))
	}
	return cfg, nil
}

// announceRecord says where the proxy listens and how HTTPS is handled.
func announceRecord(stdout io.Writer, cfg proxy.Config, addr, out string, ca *proxy.CA) {
	if cfg.Target != "" {
		fmt.Fprintf(stdout, "amp record: reverse proxy on http://%s -> %s, recording to %s; Ctrl-C stops\n", addr, cfg.Target, out)
		return
	}
	fmt.Fprintf(stdout, "amp record: forward proxy on http://%s, recording to %s; Ctrl-C stops\n", addr, out)
	if ca == nil {
		fmt.Fprintln(stdout, "  HTTPS is tunnelled, not recorded (--no-mitm)")
		return
	}
	made := ""
	if ca.Created {
		made = ", created now"
	}
	fmt.Fprintf(stdout, "  HTTPS is decrypted with the CA %s%s: trust it with curl --cacert, SSL_CERT_FILE or your browser ('amp ca' shows how)\n", ca.CertPath, made)
}

// createRecording starts the recording at path for every command that writes
// one (record, import, capture, demo): capture.Create, or capture.Replace with
// force. It goes to path.partial, renamed onto path by Close (Abort removes
// it), so a kill -9 leaves path.partial with everything flushed.
func createRecording(path string, force bool, h capture.FileHeader) (*capture.Writer, error) {
	create := capture.Create
	if force {
		create = capture.Replace
	}
	w, err := create(path, h)
	if _, serr := os.Lstat(path); errors.Is(err, fs.ErrExist) && serr == nil {
		return nil, fmt.Errorf("%s already exists; nothing was changed (use --force to replace it, or another -o)", path)
	}
	return w, err
}

// recordingError says what a failed command leaves of the recording at path:
// a failed Close keeps the partial file, which holds what was written.
func recordingError(cmd string, err error, path string, closeErr error, n int) error {
	where := path
	if closeErr != nil {
		where = capture.PartialPath(path)
	}
	return &exitError{code: exitBadInput, err: fmt.Errorf("%s: %v; the %d requests before it are in %s", cmd, err, n, where)}
}

// recordOptions are the settings stored in the recording's header: the mode
// and every flag given.
func recordOptions(c *cli.Context, cfg proxy.Config) map[string]string {
	opts := map[string]string{"mode": "forward", "max-body": strconv.FormatInt(cfg.MaxBody, 10), "session-idle": cfg.SessionIdle.String()}
	if cfg.Target != "" {
		opts["mode"] = "reverse"
	}
	return flagOptions(c, opts, "output", "force", "quiet")
}

// summaryNotes adds what the final line should mention besides the count.
func summaryNotes(st proxy.Stats) string {
	var notes []string
	if st.Errors > 0 {
		notes = append(notes, fmt.Sprintf("%d failed upstream", st.Errors))
	}
	if st.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("%d skipped by filters", st.Skipped))
	}
	if st.Lost > 0 {
		notes = append(notes, fmt.Sprintf("%d still in flight at the stop, not recorded", st.Lost))
	}
	if st.Refused > 0 {
		notes = append(notes, fmt.Sprintf("%d clients refused by --allow-remote", st.Refused))
	}
	if len(notes) == 0 {
		return ""
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

// formatStatus is one status line.
func formatStatus(st proxy.Stats) string {
	line := fmt.Sprintf("amp record: %s, %s, %s, %s", plural(int(st.Requests), "request"), plural(int(st.Sessions), "session"), formatBytes(st.Bytes), plural(int(st.Errors), "error"))
	if st.Skipped > 0 {
		line += fmt.Sprintf(", %d skipped", st.Skipped)
	}
	if st.InFlight > 0 {
		line += fmt.Sprintf(", %d in flight", st.InFlight)
	}
	return line
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// parseSize parses a byte size: a number with an optional k, M or G suffix
// (binary multiples; "KiB", "MB" and the like are accepted too).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	num := strings.TrimRightFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	unit := strings.ToLower(strings.TrimSpace(t[len(num):]))
	mult := map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}[unit]
	if mult == 0 || num == "" {
		return 0, errors.New("want a size such as 65536, 64k or 1M")
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<40 {
		return 0, errors.New("want a size such as 65536, 64k or 1M")
	}
	return int64(v * float64(mult)), nil
}
