// Command firstreq is the target of the scale benchmark (bench/scale/run.sh):
// an HTTP server on 127.0.0.1 that answers every request with a short 200
// and notes when the first one arrived.
//
//	go run ./bench/scale/firstreq -addr-file ADDR -first-file FIRST
//
// It writes its address (host:port) to -addr-file once it listens and, at
// the first request, the time in Unix nanoseconds to -first-file. It stops
// on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

func main() {
	addrFile := flag.String("addr-file", "", "write the listening address to this file")
	firstFile := flag.String("first-file", "", "write the Unix time (ns) of the first request to this file")
	flag.Parse()
	if *addrFile == "" || *firstFile == "" {
		fmt.Fprintln(os.Stderr, "firstreq: -addr-file and -first-file are required")
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "firstreq:", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	seen := false
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now().UnixNano()
		mu.Lock()
		if !seen {
			seen = true
			if err := os.WriteFile(*firstFile, []byte(strconv.FormatInt(now, 10)+"\n"), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "firstreq:", err)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "firstreq:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "firstreq:", err)
		os.Exit(1)
	}
}
