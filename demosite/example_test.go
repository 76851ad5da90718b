package demosite_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ampload/amp/demosite"
)

func ExampleNew() {
	cfg := demosite.DefaultConfig()
	cfg.Latency, cfg.Jitter = 5*time.Millisecond, 0
	if err := cfg.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	site := demosite.New(cfg)
	srv := httptest.NewServer(site)
	defer srv.Close()

	for _, path := range []string{"/", "/", "/healthz", "/articles/0123456789abcdef"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if path == "/healthz" {
			fmt.Printf("%s %d %s\n", path, resp.StatusCode, body)
		} else {
			fmt.Println(path, resp.StatusCode)
		}
	}
	st := site.Stats()
	fmt.Println("visits:", st.Visits, "requests:", st.Requests, "articles:", st.Articles)
	// Output:
	// / 200
	// / 200
	// /healthz 200 ok
	// /articles/0123456789abcdef 404
	// visits: 2 requests: 3 articles: 3
}

func ExampleConfig_Validate() {
	cfg := demosite.Config{ErrorRate: 1.5, Capacity: -1}
	fmt.Println(cfg.Validate())
	// Output:
	// demosite: error rate 1.5 is outside 0..1
	// demosite: capacity -1 is negative
}
