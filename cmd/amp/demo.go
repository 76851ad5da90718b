package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/proxy"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/urfave/cli/v2"
)

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "see amp's whole job in one command: record a scripted user on the demo site, replay it as 200 users",
		UsageText: "amp demo [--users N] [--rate R] [--duration D] [-o demo.amp] [--html demo-report.html]\n\n" +
			"   amp demo                                 # 200 users at 20/s for 30 s\n" +
			"   amp demo --users 500 --rate 50 --duration 1m\n" +
			"   amp demo --web                           # watch it on http://127.0.0.1:8089\n" +
			"   go run ./cmd/amp demo                    # the same, from a fresh clone",
		Description: "1. starts the demo site on a free loopback port, with --capacity so it slows down under load;\n" +
			"2. starts the recording proxy and drives a scripted user through it: log in, write an article,\n" +
			"   read it, read it through the JSON API, post a comment, read the visit counter;\n" +
			"3. writes the recording (-o) and lists what was recorded and the values amp will correlate;\n" +
			"4. replays the recording as --users users started at --rate per second for --duration, with the\n" +
			"   live statistics, then prints the final report with the slowdown against the recording and\n" +
			"   writes the HTML report (--html). Nothing leaves this machine.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "users", Aliases: []string{"u"}, Value: 200, Usage: "simulated users to replay the recording as"},
			&cli.Float64Flag{Name: "rate", Aliases: []string{"r"}, Value: 20, Usage: "users started per second"},
			&cli.DurationFlag{Name: "duration", Aliases: []string{"d"}, Value: 30 * time.Second, Usage: "length of the replay"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "demo.amp", Usage: "the recording to write (`FILE`; replaces only an earlier amp demo's recording)"},
			&cli.BoolFlag{Name: "force", Usage: "let -o replace a file that is not an earlier amp demo's recording"},
			&cli.StringFlag{Name: "html", Value: "demo-report.html", Usage: "the HTML report to write (`FILE`)"},
			&cli.StringFlag{Name: "json", Usage: "also write the result as JSON to this `FILE`"},
			&cli.IntFlag{Name: "capacity", Value: 20, Usage: "requests the demo site serves at once; the rest queue (20: it saturates at about 1000 req/s, reached near 150 users)"},
			&cli.DurationFlag{Name: "latency", Value: 10 * time.Millisecond, Usage: "the demo site's added latency per request"},
			&cli.DurationFlag{Name: "pause", Value: 300 * time.Millisecond, Usage: "the scripted user's pause between pages (the recorded think time)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no live statistics, only the final report"},
			&cli.GenericFlag{Name: "web", Value: &optionalAddr{def: "127.0.0.1:8089"}, Usage: "watch the replay in the browser instead: --web (127.0.0.1:8089) or --web=`HOST:PORT`; Ctrl-C ends"},
		},
		Action: runDemo,
	}
}

func runDemo(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("demo: takes no arguments, got %q (run 'amp demo --help')", c.Args().First())
	}
	ctx, out, errw := c.Context, c.App.Writer, c.App.ErrWriter
	output, users, rate, duration := c.String("output"), c.Int("users"), c.Float64("rate"), c.Duration("duration")
	if users < 1 || !(rate > 0) || duration <= 0 || c.Int("capacity") < 0 || c.Duration("latency") < 0 {
		return usageError("demo: --users, --rate and --duration must be positive, --capacity and --latency not negative")
	}

	force, err := checkDemoOutputs(c, output)
	if err != nil {
		return err
	}

	// 1. The demo site.
	siteCfg := demosite.Config{Latency: c.Duration("latency"), Jitter: 2 * c.Duration("latency"), Capacity: c.Int("capacity")}
	site, stopSite, err := listenAndServe(demosite.New(siteCfg))
	if err != nil {
		return err
	}
	defer stopSite()
	siteURL := "http://" + site
	fmt.Fprintf(out, "1. demo site on %s: %v latency + up to %v jitter, %d requests at once (the rest queue)\n\n",
		siteURL, siteCfg.Latency, siteCfg.Jitter, siteCfg.Capacity)

	// 2. Record a scripted user through the recording proxy.
	visit, err := recordDemo(ctx, siteURL, output, force, c.Duration("pause"), out)
	if err != nil {
		return err
	}
	rec, err := capture.ReadFile(output)
	if err != nil {
		return fmt.Errorf("demo: reading back %s: %w", output, err)
	}
	fmt.Fprintf(out, "3. %s holds what the user did (amp sessions %s -v --correlations):\n\n", output, output)
	if err := printRecorded(out, output); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if rec.Exchanges() != visit.Requests {
		return fmt.Errorf("demo: the scripted user sent %d requests but %s holds %d", visit.Requests, output, rec.Exchanges())
	}

	// 4. Replay it as many users.
	cfg := replay.DefaultConfig()
	cfg.Host, cfg.Users, cfg.Rate, cfg.Duration = siteURL, users, rate, duration
	cfg.StopTimeout = 5 * time.Second
	namer, err := stats.NewNamer(nil)
	if err != nil {
		return err
	}
	setup := &replaySetup{rec: rec, path: output, errw: errw,
		opts: replay.RunOptions{Name: namer.Name, FileLimit: openFileLimit(), Recording: output}}
	fmt.Fprintf(out, "4. replaying %s as %d users (%g started per second) for %v against %s;\n"+
		"   each user logs in with its own session, CSRF tokens and article ids (correlated live)\n\n",
		output, users, rate, duration, siteURL)
	if c.IsSet("web") {
		return serveWeb(c, setup, cfg, true, false)
	}
	run, err := setup.newRun(cfg)
	if err != nil {
		return err
	}
	res := play(ctx, run, c.Bool("quiet"), out, errw)
	if err := finish(c, res, nil); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(out, "\nNext: record your own app with 'amp record', or replay this recording yourself:\n"+
		"   amp demosite --capacity 20 &\n   amp replay %s --host http://127.0.0.1:5000 --users 200 --rate 20 --duration 30s\n", output)
	if res.Requests == 0 {
		return errors.New("demo: the replay sent no request")
	}
	return nil
}

// checkDemoOutputs checks the outputs before anything runs: -o replaces a
// previous demo's recording (force is then true), nothing else without
// --force.
func checkDemoOutputs(c *cli.Context, output string) (force bool, err error) {
	files := resultFiles(c)
	files.CSV = ""
	force = c.Bool("force")
	if !force {
		if h, err := capture.ReadHeader(output); err == nil && strings.HasPrefix(h.Tool, "amp demo") {
			force = true
		}
	}
	plan := outfile.Plan{Force: force, Outputs: append([]outfile.Output{{Flag: "-o", Path: output, Kind: outfile.Recording}}, files.Outputs()...)}
	if err := plan.Check(); err != nil {
		if _, serr := os.Stat(output); serr == nil && !force && strings.Contains(err.Error(), "already exists") {
			return force, usageError("demo: -o %s exists and is not an amp demo recording; nothing was changed (use --force to replace it, or another -o)", output)
		}
		return force, usageError("demo: %v", err)
	}
	return force, nil
}

// recordDemo runs the recording proxy in front of the site and drives one
// scripted user through it, writing the recording to output.
func recordDemo(ctx context.Context, siteURL, output string, replace bool, pause time.Duration, out io.Writer) (demosite.Visit, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return demosite.Visit{}, err
	}
	pcfg := proxy.DefaultConfig()
	pcfg.Listen = ln.Addr().String()
	pcfg.NoMITM = true // the demo site is plain HTTP: no CA needed
	pcfg.StopTimeout = 5 * time.Second
	recorder, err := proxy.New(pcfg)
	if err != nil {
		ln.Close()
		return demosite.Visit{}, err
	}
	// Written next to output and moved there once complete.
	w, err := createRecording(output, replace, capture.FileHeader{Source: "proxy", Created: time.Now(), Tool: "amp demo " + version()})
	if err != nil {
		ln.Close()
		return demosite.Visit{}, fmt.Errorf("demo: -o %s: %w", output, err)
	}
	defer w.Abort() // a no-op after a successful Close
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- recorder.Serve(serveCtx, ln, w) }()

	fmt.Fprintf(out, "2. recording proxy on http://%s; a scripted user browses the site through it:\n"+
		"   log in, write an article, read it, read it through the API, comment, read the counter\n", ln.Addr())
	proxyURL := &url.URL{Scheme: "http", Host: ln.Addr().String()}
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}, Timeout: 30 * time.Second}
	visit, browseErr := demosite.Browse(ctx, client, siteURL, pause)
	client.CloseIdleConnections()
	stop()
	serveErr := <-served
	if err := errors.Join(browseErr, serveErr); err != nil {
		return visit, fmt.Errorf("demo: recording: %w", err)
	}
	if err := w.Close(); err != nil {
		return visit, fmt.Errorf("demo: -o %s: %w", output, err)
	}
	st := recorder.Stats()
	fmt.Fprintf(out, "   recorded %d requests in %d session(s) to %s\n\n", st.Requests, st.Sessions, output)
	return visit, nil
}

// listenAndServe serves h on a free loopback port until stop.
func listenAndServe(h http.Handler) (addr string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}
