package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
	"github.com/ampload/amp/capture/packet"
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

// importInput is one input file, detected.
type importInput struct {
	path   string
	format packet.Format
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
	var forced packet.Format
	if f := c.String("format"); f != "" {
		if forced, err = packet.ParseFormat(f); err != nil {
			return usageError("import: --format: %v", err)
		}
	}
	// Look at every input before creating the output, so that a typo does not
	// leave an empty recording behind.
	inputs := make([]importInput, 0, c.NArg())
	for _, path := range c.Args().Slice() {
		in, err := detectInput(path, forced, set.out)
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
	imp := &importer{
		stderr: c.App.ErrWriter,
		quiet:  c.Bool("quiet"),
		w:      w,
		group:  capture.NewGrouper(set.group),
		out:    set.out,
		start:  time.Now(),
	}
	runErr := imp.run(c.Context, inputs, set)
	var closeErr error
	committed := false
	if runErr == nil && w.Count() > 0 {
		closeErr = w.Close()
		committed = closeErr == nil
	}
	fmt.Fprintln(c.App.Writer, imp.summary(committed))
	unchanged := "nothing was written to " + set.out
	if set.force {
		unchanged = set.out + " is unchanged"
	}
	switch {
	case runErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: %v; %s", runErr, unchanged)}
	case closeErr != nil:
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: writing %s: %v; %s", set.out, closeErr, unchanged)}
	case w.Count() == 0:
		why := ""
		if n := len(imp.warnings); n > 0 {
			why = fmt.Sprintf(" (%d warning%s above)", n, map[bool]string{true: "s"}[n > 1])
		}
		return &exitError{code: exitBadInput, err: fmt.Errorf("import: no HTTP exchange found in %s%s; %s", strings.Join(c.Args().Slice(), ", "), why, unchanged)}
	}
	return nil
}

// detectInput opens path and recognises its format (forced wins). The output
// must not be one of the inputs.
func detectInput(path string, forced packet.Format, out string) (importInput, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return importInput{}, fmt.Errorf("%s: no such file", path)
		}
		return importInput{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return importInput{}, err
	}
	if st.IsDir() {
		return importInput{}, fmt.Errorf("%s is a directory", path)
	}
	if ost, err := os.Stat(out); err == nil && os.SameFile(st, ost) {
		return importInput{}, fmt.Errorf("-o %s is also an input", out)
	}
	format, r, err := packet.Detect(f)
	if forced != "" {
		return importInput{path: path, format: forced}, nil
	}
	if err == nil && format != packet.FormatHAR {
		// The first packet's link type tells early whether amp can read it.
		if src, serr := packet.NewSource(r, format); serr == nil {
			if _, _, link, rerr := src.ReadPacket(); rerr == nil && !link.Supported() {
				return importInput{}, fmt.Errorf("%s: link type %s is not supported (Ethernet, Linux cooked v1/v2, loopback and raw IP are)", path, link)
			}
		}
	}
	if err != nil {
		if errors.Is(err, packet.ErrUnknownFormat) {
			head := make([]byte, len(capture.Magic))
			if _, rerr := f.ReadAt(head, 0); rerr == nil && string(head) == capture.Magic {
				return importInput{}, fmt.Errorf("%s is an amp recording already ('amp sessions %s' lists it)", path, path)
			}
			return importInput{}, fmt.Errorf("%s: %v (--format forces one)", path, err)
		}
		return importInput{}, fmt.Errorf("%s: %v", path, err)
	}
	return importInput{path: path, format: format}, nil
}

// importSource names the recording's source: the formats read.
func importSource(inputs []importInput) string {
	var fs []string
	for _, in := range inputs {
		if !slices.Contains(fs, string(in.format)) {
			fs = append(fs, string(in.format))
		}
	}
	return strings.Join(fs, ",")
}

// importOptions are the settings stored in the recording's header.
func importOptions(c *cli.Context, inputs []importInput) map[string]string {
	names := make([]string, len(inputs))
	for i, in := range inputs {
		names[i] = filepath.Base(in.path)
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

// importer runs one import: the files in order into one recording.
type importer struct {
	stderr io.Writer
	quiet  bool
	w      *capture.Writer
	group  *capture.Grouper
	out    string
	start  time.Time

	im       *packet.Importer // for all packet captures, so connections span files
	har      har.Stats
	harFiles int
	files    int
	warnings []string

	lastProgress time.Time
}

// write groups and writes one exchange.
func (imp *importer) write(e *capture.Exchange) error {
	imp.group.Assign(e)
	if err := imp.w.Write(e); err != nil {
		return fmt.Errorf("writing %s: %v", imp.out, err)
	}
	return nil
}

func (imp *importer) run(ctx context.Context, inputs []importInput, set importSettings) error {
	im, err := packet.NewImporter(packet.Config{Ports: set.ports, MaxBody: set.maxBody}, capture.SinkFunc(imp.write))
	if err != nil {
		return err
	}
	imp.im = im
	for _, in := range inputs {
		var err error
		if in.format == packet.FormatHAR {
			err = imp.readHAR(in, set)
		} else {
			err = imp.readCapture(ctx, in)
		}
		if err != nil {
			_ = im.Close() // keep what the connections hold so far
			return err
		}
		imp.files++
		if err := imp.w.Flush(); err != nil {
			return fmt.Errorf("writing %s: %v", imp.out, err)
		}
	}
	return im.Close()
}

// readHAR imports one HAR file.
func (imp *importer) readHAR(in importInput, set importSettings) error {
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, r, err := packet.Detect(f) // unwraps gzip
	if err != nil && !errors.Is(err, packet.ErrUnknownFormat) {
		return fmt.Errorf("%s: %v", in.path, err)
	}
	if r == nil {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		r = f
	}
	l, err := har.Read(r)
	if err != nil {
		return fmt.Errorf("%s: %v", in.path, err)
	}
	exs, st := l.Exchanges(har.Config{Name: filepath.Base(in.path), MaxBody: set.maxBody})
	for _, e := range exs {
		if err := imp.write(e); err != nil {
			return err
		}
	}
	imp.harFiles++
	imp.har.Entries += st.Entries
	imp.har.Exchanges += st.Exchanges
	imp.har.NoResponse += st.NoResponse
	imp.har.Skipped += st.Skipped
	if st.Skipped > 0 {
		imp.warn(fmt.Sprintf("%s: skipped %d entries without method, absolute URL or start time", in.path, st.Skipped))
	}
	return nil
}

// countingReader counts the bytes read from a file, for progress.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readCapture imports one pcap or pcapng file.
func (imp *importer) readCapture(ctx context.Context, in importInput) error {
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	cr := &countingReader{r: f}
	_, r, err := packet.Detect(cr)
	if err != nil && !errors.Is(err, packet.ErrUnknownFormat) {
		return fmt.Errorf("%s: %v", in.path, err)
	}
	if r == nil { // --format on content that was not recognised
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		cr.n = 0
		r = cr
	}
	src, err := packet.NewSource(r, in.format)
	if err != nil {
		return fmt.Errorf("%s: %v", in.path, err)
	}
	before := imp.im.Stats()
	err = imp.im.Read(ctx, src, func() { imp.progress(in.path, cr.n, size) })
	after := imp.im.Stats()
	switch {
	case errors.Is(err, packet.ErrTruncated):
		imp.warn(fmt.Sprintf("%s: %v; imported the packets before it", in.path, err))
	case errors.Is(err, context.Canceled):
		return errors.New("interrupted")
	case err != nil:
		return fmt.Errorf("%s: %v", in.path, err)
	}
	if n := after.Packets - before.Packets; n > 0 {
		var bad int64
		for k, v := range after.Unsupported {
			bad += v - before.Unsupported[k]
		}
		if bad == n {
			return fmt.Errorf("%s: link type %s is not supported (Ethernet, Linux cooked v1/v2, loopback and raw IP are)",
				in.path, strings.Join(slices.Sorted(maps.Keys(after.Unsupported)), ", "))
		}
	} else if err == nil {
		imp.warn(in.path + ": no packets")
	}
	return nil
}

// warn prints a warning now and keeps it for the end.
func (imp *importer) warn(msg string) {
	fmt.Fprintf(imp.stderr, "amp: warning: import: %s\n", msg)
	imp.warnings = append(imp.warnings, msg)
}

// progress prints a line about every second once the import has run for a
// second.
func (imp *importer) progress(path string, read, size int64) {
	if imp.quiet {
		return
	}
	now := time.Now()
	if now.Sub(imp.start) < time.Second || now.Sub(imp.lastProgress) < time.Second {
		return
	}
	imp.lastProgress = now
	st := imp.im.Stats()
	pct := ""
	if size > 0 {
		pct = fmt.Sprintf(" %3.0f%%", 100*float64(read)/float64(size))
	}
	line := fmt.Sprintf("import: %s%s (%s), %d packets, %d requests, %d sessions", filepath.Base(path), pct,
		formatBytes(read), st.Packets, imp.w.Count(), imp.group.Sessions())
	fmt.Fprintln(imp.stderr, line)
}

// summary is the last line: what was read, what was written (if the import
// succeeded), what was not.
func (imp *importer) summary(written bool) string {
	st := imp.im.Stats()
	var parts []string
	if st.Packets > 0 || imp.harFiles == 0 {
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
	if imp.harFiles > 0 {
		parts = append(parts, fmt.Sprintf("%d HAR entries (%d without response)", imp.har.Exchanges, imp.har.NoResponse))
	}
	files := "1 file"
	if imp.files != 1 {
		files = fmt.Sprintf("%d files", imp.files)
	}
	where := "written to " + imp.out
	if !written {
		where = "not written"
	}
	return fmt.Sprintf("import: %s read: %s; %d requests in %d sessions %s", files, strings.Join(parts, ", "),
		imp.w.Count(), imp.group.Sessions(), where)
}
