package edit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/edit"
)

// Keep the API calls of a recording, without its static assets.
func ExampleApply() {
	dir, _ := os.MkdirTemp("", "edit")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "shop.amp")
	w, _ := capture.Create(in, capture.FileHeader{Source: "proxy"})
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for i, url := range []string{"http://shop.example/", "http://shop.example/app.css", "http://shop.example/api/cart"} {
		_ = w.Write(&capture.Exchange{Session: "u1", Start: t0.Add(time.Duration(i) * time.Second),
			Request: capture.Request{Method: "GET", URL: url}, Response: capture.Response{Status: 200}})
	}
	_ = w.Close()

	file, err := capture.Open(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer file.Close()
	out, _ := capture.Create(filepath.Join(dir, "api.amp"), edit.Header("filter", "amp", map[string]string{"skip-static": "true"}, edit.Input{Name: in, File: file}))
	rep, err := edit.Apply(context.Background(), file, edit.Filter{SkipStatic: true, ExcludePaths: []string{"/"}}, out)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := out.Close(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("kept %d of %d exchanges in %d session\n", rep.Exchanges, rep.ExchangesIn, rep.Sessions)
	for _, d := range rep.Dropped {
		fmt.Printf("%s dropped %d\n", d.Rule, d.Exchanges)
	}
	// Output:
	// kept 1 of 3 exchanges in 1 session
	// ExcludePaths dropped 1
	// SkipStatic dropped 1
}
