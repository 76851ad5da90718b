package prom_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/stats/prom"
)

// Serve a collector's metrics on /metrics (amp replay --metrics does this).
func ExampleHandler() {
	c := stats.NewCollector(stats.Config{})
	c.SetConfig(map[string]any{stats.ConfigRunID: "4f1c"})
	ep := c.Endpoint("GET", "/")
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	s := stats.Sample{Sent: t0, Done: t0.Add(20 * time.Millisecond), Status: 200}
	c.NewRecorder().Record(ep, &s)

	srv := httptest.NewServer(prom.Handler(c))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "amp_requests_total") {
			fmt.Println(line)
		}
	}
	// Output: amp_requests_total{method="GET",name="/",run="4f1c",status="200"} 1
}
