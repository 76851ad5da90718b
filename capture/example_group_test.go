package capture_test

import (
	"fmt"
	"time"

	"github.com/ampload/amp/capture"
)

// A visit that gets a cookie, logs in (which rotates the session id) and comes
// back after a long break, and a second browser at the same time.
func ExampleGrouper() {
	g := capture.NewGrouper(capture.GroupConfig{Idle: 30 * time.Minute})
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

	visit := func(at time.Duration, client, path, cookie, setCookie string) {
		e := &capture.Exchange{
			Client:   client,
			Start:    start.Add(at),
			Duration: 50 * time.Millisecond,
			Request: capture.Request{
				Method: "GET",
				URL:    "http://shop.example" + path,
				Header: capture.Headers{{Name: "User-Agent", Value: "Firefox/128.0"}},
			},
		}
		if cookie != "" {
			e.Request.Header = append(e.Request.Header, capture.Header{Name: "Cookie", Value: cookie})
		}
		if setCookie != "" {
			e.Response.Header = capture.Headers{{Name: "Set-Cookie", Value: setCookie}}
		}
		key := g.Assign(e)
		fmt.Printf("%-6s %-19s %-9s -> session %s\n", at, client, path, key)
	}

	visit(0, "192.0.2.1:50001", "/", "", "session=anon7; Path=/")
	visit(2*time.Second, "192.0.2.1:50002", "/cart", "session=anon7", "")
	visit(5*time.Second, "192.0.2.1:50001", "/login", "session=anon7", "session=user42; Path=/")
	visit(6*time.Second, "192.0.2.1:50002", "/account", "session=user42", "")
	visit(7*time.Second, "198.51.100.9:61000", "/", "", "")
	visit(45*time.Minute, "192.0.2.1:50003", "/account", "session=user42", "")
	fmt.Println("sessions:", g.Sessions())

	// Output:
	// 0s     192.0.2.1:50001     /         -> session 1
	// 2s     192.0.2.1:50002     /cart     -> session 1
	// 5s     192.0.2.1:50001     /login    -> session 1
	// 6s     192.0.2.1:50002     /account  -> session 1
	// 7s     198.51.100.9:61000  /         -> session 2
	// 45m0s  192.0.2.1:50003     /account  -> session 3
	// sessions: 3
}
