package proxy_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/proxy"
)

// BenchmarkReverse measures recorded exchanges through reverse mode against
// the demo site's home page, on loopback, with parallel keep-alive clients;
// compare with BenchmarkDirect for the cost the recorder adds.
func BenchmarkReverse(b *testing.B) {
	site := httptest.NewServer(demosite.New(demosite.Config{}))
	defer site.Close()
	dir := b.TempDir()
	w, err := capture.Create(filepath.Join(dir, "bench.amp"), capture.FileHeader{Source: "proxy"})
	if err != nil {
		b.Fatal(err)
	}
	cfg := proxy.DefaultConfig()
	cfg.Target = site.URL
	rec, err := proxy.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- rec.Serve(ctx, ln, w) }()
	benchGet(b, "http://"+ln.Addr().String()+"/")
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if st := rec.Stats(); st.Requests < int64(b.N) {
		b.Fatalf("recorded %d of %d requests", st.Requests, b.N)
	}
}

// BenchmarkDirect is BenchmarkReverse's client against the demo site itself.
func BenchmarkDirect(b *testing.B) {
	site := httptest.NewServer(demosite.New(demosite.Config{}))
	defer site.Close()
	benchGet(b, site.URL+"/")
}

func benchGet(b *testing.B, url string) {
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 10 * time.Second}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
