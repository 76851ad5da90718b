package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/ingest"
)

// Import without the command line: a HAR file exported by a browser, into a
// recording in memory (capture.Create would write a file).
func ExampleImport() {
	dir, err := os.MkdirTemp("", "ingest-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "checkout.har")
	const doc = `{"log": {"version": "1.2", "entries": [
	 {"startedDateTime": "2026-03-01T10:00:00Z", "request": {"method": "GET", "url": "https://shop.test/cart", "headers": []},
	  "response": {"status": 200, "headers": [{"name": "Set-Cookie", "value": "sid=7; Path=/"}]}},
	 {"startedDateTime": "2026-03-01T10:00:02Z", "request": {"method": "POST", "url": "https://shop.test/checkout",
	  "headers": [{"name": "Cookie", "value": "sid=7"}]}, "response": {"status": 303, "headers": []}}]}}`
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		fmt.Println(err)
		return
	}

	in, err := ingest.DetectFile(path, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	var file bytes.Buffer
	w, err := capture.NewWriter(&file, capture.FileHeader{Source: string(in.Format)})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := ingest.Config{Group: capture.GroupConfig{SessionCookie: "sid"}}
	st, err := ingest.Import(context.Background(), cfg, []ingest.Input{in}, w)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %s, %d files, %d requests in %d sessions\n", filepath.Base(in.Path), in.Format, st.Files, st.Requests, st.Sessions)

	rec, err := capture.Read(&file)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range rec.Sessions {
		for _, e := range s.Exchanges {
			fmt.Println("session", s.ID, e.Request.Method, e.Request.URL, e.Response.Status)
		}
	}
	// Output:
	// checkout.har: har, 1 files, 2 requests in 1 sessions
	// session 1 GET https://shop.test/cart 200
	// session 1 POST https://shop.test/checkout 303
}
