package har_test

import (
	"fmt"
	"strings"

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
