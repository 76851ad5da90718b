package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ampload/amp/demosite"
	"github.com/urfave/cli/v2"
)

func demositeCommand() *cli.Command {
	def := demosite.DefaultConfig()
	return &cli.Command{
		Name:  "demosite",
		Usage: "serve the demo site: a visit counter and a small blog with logins and CSRF tokens",
		UsageText: "amp demosite [--addr HOST:PORT] [--latency D] [--jitter D] [--error-rate F] [--capacity N]\n\n" +
			"   amp demosite                                  # http://127.0.0.1:5000\n" +
			"   amp demosite --capacity 20 --latency 50ms     # slows down beyond 400 req/s\n" +
			"   amp demosite --error-rate 0.05                # 5 % of requests fail with 500",
		Description: "Routes: GET / (visit counter), GET/POST /login, GET /articles, GET /articles/new,\n" +
			"POST /articles, GET /articles/{id}, GET /api/articles/{id},\n" +
			"POST /api/articles/{id}/comments (X-CSRF-Token), POST /logout, /static/*, GET /healthz.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:5000", Usage: "address to listen on (port 0 picks a free one)"},
			&cli.DurationFlag{Name: "latency", Value: def.Latency, Usage: "delay added to every request"},
			&cli.DurationFlag{Name: "jitter", Value: def.Jitter, Usage: "plus a random delay up to this"},
			&cli.Float64Flag{Name: "error-rate", Value: def.ErrorRate, Usage: "fraction (0..1) of requests answered 500"},
			&cli.IntFlag{Name: "capacity", Value: def.Capacity, Usage: "requests served at once (0 = unlimited); the rest queue"},
			&cli.Int64Flag{Name: "seed", Usage: "random seed for jitter and errors (0 = random)"},
		},
		Action: runDemosite,
	}
}

func runDemosite(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("demosite: takes no arguments, got %q", c.Args().First())
	}
	cfg := demosite.Config{
		Latency:   c.Duration("latency"),
		Jitter:    c.Duration("jitter"),
		ErrorRate: c.Float64("error-rate"),
		Capacity:  c.Int("capacity"),
		Seed:      c.Int64("seed"),
	}
	if err := cfg.Validate(); err != nil {
		return usageError("demosite: %v", oneLine(err))
	}
	ln, err := net.Listen("tcp", c.String("addr"))
	if err != nil {
		return usageError("demosite: --addr %s: %v", c.String("addr"), err)
	}
	srv := &http.Server{Handler: demosite.New(cfg), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(c.App.Writer, "demo site on http://%s (latency %v + up to %v, capacity %d, error rate %g); Ctrl-C stops\n",
		ln.Addr(), cfg.Latency, cfg.Jitter, cfg.Capacity, cfg.ErrorRate)
	return serveUntilDone(c.Context, srv, ln)
}

// serveUntilDone serves on ln until ctx ends, then shuts down gracefully within
// a few seconds.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// oneLine joins the lines of a multi-line error (errors.Join) with "; ".
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
