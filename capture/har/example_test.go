package har_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/har"
)

func ExampleLog_Exchanges() {
	const doc = `{"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "124"},
	 "entries": [{"startedDateTime": "2026-03-01T10:00:00.000Z",
	  "request": {"method": "GET", "url": "https://shop.test/cart", "httpVersion": "HTTP/1.1", "headers": []},
	  "response": {"status": 200, "httpVersion": "HTTP/1.1", "headers": [], "content": {"size": 2, "text": "ok"}},
	  "timings": {"blocked": 1, "send": 1, "wait": 20, "receive": 4}}]}}`
	l, err := har.Read(strings.NewReader(doc))
	if err != nil {
		fmt.Println(err)
		return
	}
	exs, st := l.Exchanges(har.Config{Name: "shop.har"})
	for _, e := range exs {
		fmt.Println(e.Request.Method, e.Request.URL, e.Response.Status, string(e.Response.Body), e.TTFB, e.Duration, e.Client)
	}
	fmt.Printf("%d entries, %d exchanges\n", st.Entries, st.Exchanges)
	// Output:
	// GET https://shop.test/cart 200 ok 21ms 25ms har/shop.har
	// 1 entries, 1 exchanges
}

// Import writes a HAR file's exchanges to a capture.Sink: here a function
// that prints them.
func ExampleImport() {
	const doc = `{"log": {"version": "1.2", "entries": [
	 {"startedDateTime": "2026-03-01T10:00:01.000Z",
	  "request": {"method": "POST", "url": "https://shop.test/cart", "headers": []},
	  "response": {"status": 303, "headers": []}},
	 {"startedDateTime": "2026-03-01T10:00:00.000Z",
	  "request": {"method": "GET", "url": "https://shop.test/", "headers": []},
	  "response": {"status": 200, "headers": []}}]}}`
	show := capture.SinkFunc(func(e *capture.Exchange) error {
		fmt.Println(e.Start.Format(time.TimeOnly), e.Request.Method, e.Request.URL, e.Response.Status)
		return nil
	})
	st, err := har.Import(strings.NewReader(doc), har.Config{Name: "shop.har"}, show)
	fmt.Println(st.Exchanges, "exchanges", err)
	// Output:
	// 10:00:00 GET https://shop.test/ 200
	// 10:00:01 POST https://shop.test/cart 303
	// 2 exchanges <nil>
}
