package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/ingest"
	"github.com/ampload/amp/internal/outfile"
	"github.com/urfave/cli/v2"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "turn packet captures (pcap, pcapng) and HAR files into a recording",
		ArgsUsage: "FILE...",
		UsageText: "amp import FILE... -o REC.amp [flags]\n\n" +
			"   sudo tcpdump -i any -w shop.pcap 'tcp port 80'      # capture, then\n" +
			"   amp import shop.pcap -o shop.amp\n" +
			"   amp import mon.pcap.gz tue.pcapng -o week.amp --port 8080 --session-cookie sid\n" +
			"   amp import checkout.har -o checkout.amp             # from the browser's DevTools",
		Description: "Files are recognised by content (pcap in either byte order, µs or ns; pcapng; HAR;\n" +
			"any of them gzipped); --format overrides. Packets: Ethernet (VLAN), Linux cooked v1/v2,\n" +
			"loopback and raw IP; IPv4 and IPv6. HTTP/1.0 and 1.1 are found on any port by content\n" +
			"(--port restricts); TLS and HTTP/2 connections are counted as skipped. Requests without\n" +
			"response are kept with status 0; messages with bytes missing from the capture are\n" +
			"flagged incomplete. Several files go into one recording, their sessions grouped across\n" +
			"them. A capture cut short (still being written) imports up to the cut with a warning.\n" +
			"Sizes take k, M, G suffixes (binary).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "recording to write (`FILE`, refused if it exists)"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite an existing --output file"},
			&cli.StringFlag{Name: "format", Usage: "read every input as this `FORMAT` (pcap, pcapng or har) instead of detecting it"},
			&cli.GenericFlag{Name: "port", Value: &multiFlag{}, Usage: "import only TCP connections on this server `PORT` (repeatable, or 80,8080)"},
			&cli.StringFlag{Name: "max-body", Value: "1MiB", Usage: "keep this much of each body (`SIZE`); longer ones are cut and marked truncated"},
			&cli.StringFlag{Name: "session-cookie", Usage: "the application's session cookie `NAME`, for grouping requests into sessions"},
			&cli.DurationFlag{Name: "session-idle", Value: capture.DefaultSessionIdle, Usage: "a user's pause longer than this (`DURATION`) starts a new session"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress lines"},
		},
		Action: runImport,
	}
}

// importSettings are the parsed flags shared by import and capture.
type importSettings struct {
	out     string
	force   bool
	ports   []uint16
	maxBody int
	group   capture.GroupConfig
}

// parseImportFlags reads the flags import and capture share and checks the
// output against the inputs (outfile.Plan); cmd names the command in
// messages.
func parseImportFlags(c *cli.Context, cmd string, inputs []string) (importSettings, error) {
	s := importSettings{out: c.String("output"), force: c.Bool("force")}
	if s.out == "" {
		return s, usageError("%s: -o FILE is required: where to write the recording (e.g. -o shop.amp)", cmd)
	}
	for _, v := range multi(c, "port") {
		for part := range strings.SplitSeq(v, ",") {
			p, err := strconv.ParseUint(strings.TrimSpace(part), 10, 16)
			if err != nil || p == 0 {
				return s, usageError("%s: --port %q: want a TCP port, 1 to 65535", cmd, part)
			}
			s.ports = append(s.ports, uint16(p))
		}
	}
	maxBody, err := parseSize(c.String("max-body"))
	if err != nil || maxBody < 1 || maxBody > 1<<30 {
		if err == nil {
			err = errors.New("want 1 byte to 1G")
		}
		return s, usageError("%s: --max-body %q: %v", cmd, c.String("max-body"), err)
	}
	s.maxBody = int(maxBody)
	if c.Duration("session-idle") <= 0 {
		return s, usageError("%s: --session-idle %v: want a positive duration such as 30m", cmd, c.Duration("session-idle"))
	}
	s.group = capture.GroupConfig{SessionCookie: c.String("session-cookie"), Idle: c.Duration("session-idle")}
	p := outfile.Plan{Inputs: inputs, Force: s.force, Outputs: []outfile.Output{{Flag: "-o", Path: s.out, Kind: outfile.Recording}}}
	if err := p.Check(); err != nil {
		return s, usageError("%s: %v", cmd, err)
	}
	return s, nil
}

func runImport(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("import: want one or more capture or HAR files (run 'amp import --help')")
	}
	set, err := parseImportFlags(c, "import", c.Args().Slice())
	if err != nil {
		return err
	}
	var forced ingest.Format
	if f := c.String("format"); f != "" {
		if forced, err = ingest.ParseFormat(f); err != nil {
			return usageError("import: --format: %v", err)
		}
	}
	// Look at every input before creating the output, so that a typo fails
	// at once.
	inputs := make([]ingest.Input, 0, c.NArg())
	for _, path := range c.Args().Slice() {
		in, err := ingest.DetectFile(path, forced)
		if err != nil {
			return usageError("import: %v", err)
		}
		inputs = append(inputs, in)
	}

	// The recording goes to -o.partial, renamed to -o only when the import
	// succeeds: a failed one leaves what was there (--force or not).
	header := capture.FileHeader{Source: importSource(inputs), Created: time.Now(), Tool: "amp " + c.App.Version, Options: importOptions(c, inputs)}
	w, err := createRecording(set.out, set.force, header)
	if err != nil {
		return usageError("import: -o %s: %v", set.out, err)
	}
	defer w.Abort() // a no-op after a successful Close
	// The import allocates a lot of short-lived memory (bodies on their way
	// to the file) and keeps little: collect garbage less often.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	stderr := c.App.ErrWriter
	cfg := ingest.Config{Ports: set.ports, MaxBody: set.maxBody, Group: set.group,
		Warn: func(msg string) { fmt.Fprintf(stderr, "amp: warning: import: %s\n", msg) }}
	if !c.Bool("quiet") {
		cfg.Progress = importProgress(stderr, time.Now())
	}
	st, runErr := ingest.Import(c.Context, cfg, inputs, w)
	var closeErr error
	if runErr == nil && st.Requests > 0 {
		closeErr = w.Close()
	}
	fmt.Fprintln(c.App.Writer, importSummary(st, set.out, runErr == nil && closeErr == nil && st.Requests > 0))
	unchanged := "nothing was written to " + set.out
	if set.force {
		unchanged = set.out + " is unchanged"
	}
	switch {
	case errors.Is(runErr, context.Canceled):
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: interrupted; %s", unchanged)}
	case runErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: %v; %s", runErr, unchanged)}
	case closeErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: writing %s: %v; %s", set.out, closeErr, unchanged)}
	case st.Requests == 0:
		why := ""
		if n := len(st.Warnings); n > 0 {
			why = fmt.Sprintf(" (%d warning%s above)", n, map[bool]string{true: "s"}[n > 1])
		}
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: no HTTP exchange found in %s%s; %s", strings.Join(c.Args().Slice(), ", "), why, unchanged)}
	}
	saveReplayFacts(c, set.out)
	return nil
}

// importSource names the recording's source: the formats read.
func importSource(inputs []ingest.Input) string {
	var fs []string
	for _, in := range inputs {
		if !slices.Contains(fs, string(in.Format)) {
			fs = append(fs, string(in.Format))
		}
	}
	return strings.Join(fs, ",")
}

// importOptions are the settings stored in the recording's header.
func importOptions(c *cli.Context, inputs []ingest.Input) map[string]string {
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = filepath.Base(in.Path)
	}
	opts := map[string]string{"files": strings.Join(names, ","), "max-body": c.String("max-body"),
		"session-idle": c.Duration("session-idle").String()}
	for _, name := range []string{"port", "session-cookie", "format"} {
		if c.IsSet(name) {
			switch v := c.Value(name).(type) {
			case *multiFlag:
				opts[name] = strings.Join(v.values, ",")
			default:
				opts[name] = fmt.Sprint(v)
			}
		}
	}
	return opts
}

// importProgress prints a line about every second once the import has run
// for a second.
func importProgress(w io.Writer, start time.Time) func(ingest.Progress) {
	var last time.Time
	return func(p ingest.Progress) {
		now := time.Now()
		if now.Sub(start) < time.Second || now.Sub(last) < time.Second {
			return
		}
		last = now
		pct := ""
		if p.Size > 0 {
			pct = fmt.Sprintf(" %3.0f%%", 100*float64(p.Read)/float64(p.Size))
		}
		fmt.Fprintf(w, "import: %s%s (%s), %d packets, %d requests, %d sessions\n", filepath.Base(p.Path), pct,
			formatBytes(p.Read), p.Packets, p.Requests, p.Sessions)
	}
}

// importSummary is the last line: what was read, what was written (if the
// import succeeded), what was not.
func importSummary(is ingest.Stats, out string, written bool) string {
	st := is.Packets
	var parts []string
	if st.Packets > 0 || is.HARFiles == 0 {
		streams := fmt.Sprintf("%d packets, %d TCP streams (%d HTTP", st.Packets, st.Streams, st.HTTPStreams)
		if len(st.Skipped) > 0 {
			var sk []string
			for _, k := range slices.Sorted(maps.Keys(st.Skipped)) {
				sk = append(sk, fmt.Sprintf("%s %d", k, st.Skipped[k]))
			}
			streams += ", skipped: " + strings.Join(sk, ", ")
		}
		parts = append(parts, streams+")")
		parts = append(parts, fmt.Sprintf("%d HTTP pairs, %d incomplete, %d requests without response", st.Pairs, st.Incomplete, st.Unmatched))
		var notes []string
		if st.Orphans > 0 {
			notes = append(notes, fmt.Sprintf("%d responses without request", st.Orphans))
		}
		if st.Truncated > 0 {
			notes = append(notes, fmt.Sprintf("%d packets cut by the snap length", st.Truncated))
		}
		if st.Fragments > 0 {
			notes = append(notes, fmt.Sprintf("%d IP fragments ignored", st.Fragments))
		}
		if st.OtherPorts > 0 {
			notes = append(notes, fmt.Sprintf("%d packets on other ports", st.OtherPorts))
		}
		for _, k := range slices.Sorted(maps.Keys(st.Unsupported)) {
			notes = append(notes, fmt.Sprintf("%d packets of unsupported link type %s", st.Unsupported[k], k))
		}
		parts = append(parts, notes...)
	}
	if is.HARFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d HAR entries (%d without response)", is.HAR.Exchanges, is.HAR.NoResponse))
	}
	files := "1 file"
	if is.Files != 1 {
		files = fmt.Sprintf("%d files", is.Files)
	}
	where := "written to " + out
	if !written {
		where = "not written"
	}
	return fmt.Sprintf("import: %s read: %s; %d requests in %d sessions %s", files, strings.Join(parts, ", "),
		is.Requests, is.Sessions, where)
}
