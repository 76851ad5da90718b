package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/proxy"
)

// Example records a request through a reverse proxy in front of a site and
// reads the recording back.
func Example() {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.URL.Query().Get("name"))
	}))
	defer site.Close()

	cfg := proxy.DefaultConfig()
	cfg.Target = site.URL // reverse mode: clients talk to the recorder as if it were the site
	rec, err := proxy.New(cfg)
	if err != nil {
		panic(err)
	}
	var file bytes.Buffer // a recording file in real use, see capture.Create
	w, err := capture.NewWriter(&file, capture.FileHeader{Source: "proxy"})
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Serve(ctx, ln, w) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/greet?name=ada")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("client got:", string(body))

	stop() // as Ctrl-C does: finish in-flight exchanges, then stop writing
	if err := <-done; err != nil {
		panic(err)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	recording, err := capture.Read(&file)
	if err != nil {
		panic(err)
	}
	for _, s := range recording.Sessions {
		for _, e := range s.Exchanges {
			fmt.Println("recorded:", e.Request.Method, strings.TrimPrefix(e.Request.URL, site.URL), e.Response.Status, string(e.Response.Body))
		}
	}
	// Output:
	// client got: hello ada
	// recorded: GET /greet?name=ada 200 hello ada
}
