package replay

import (
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

func TestJar(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	a, b := &Target{Host: "a"}, &Target{Host: "b"}
	var j jar
	header := func(tg *Target, path string, recorded []Cookie) string {
		return string(j.appendHeader(nil, tg, path, recorded, now))
	}
	recorded := []Cookie{{Name: "session", Value: "recorded"}, {Name: "theme", Value: "dark"}}

	// Before the server set anything, the recorded cookies go as recorded.
	if got := header(a, "/", recorded); got != "session=recorded; theme=dark" {
		t.Fatalf("got %q", got)
	}
	// A cookie the server sets during the replay replaces the recorded value.
	j.set(a, []byte("session=live1; Path=/; HttpOnly"), now)
	j.set(a, []byte("csrf=x9; Path=/app"), now)
	if got := header(a, "/", recorded); got != "session=live1; theme=dark" {
		t.Fatalf("got %q", got)
	}
	// Path scoping, and jar cookies the recording did not send are added.
	if got := header(a, "/app/page?x=1", recorded); got != "session=live1; theme=dark; csrf=x9" {
		t.Fatalf("got %q", got)
	}
	if got := header(a, "/apple", nil); got != "session=live1" {
		t.Fatalf("/apple matched /app: %q", got)
	}
	// Other targets do not see them.
	if got := header(b, "/", nil); got != "" {
		t.Fatalf("target b got %q", got)
	}
	// Rotation, expiry and deletion.
	j.set(a, []byte("session=live2"), now)
	j.set(a, []byte("short=1; Max-Age=60"), now)
	if got := header(a, "/", nil); got != "session=live2; short=1" {
		t.Fatalf("got %q", got)
	}
	later := now.Add(2 * time.Minute)
	if got := string(j.appendHeader(nil, a, "/", nil, later)); got != "session=live2" {
		t.Fatalf("expired cookie sent: %q", got)
	}
	j.set(a, []byte("session=; Max-Age=0"), now)
	j.set(a, []byte("csrf=gone; Path=/app; Expires=Thu, 01 Jan 1970 00:00:00 GMT"), now)
	if got := header(a, "/app", recorded); got != "session=recorded; theme=dark; short=1" {
		t.Fatalf("after deletion: %q", got)
	}
	j.reset()
	if got := header(a, "/", nil); got != "" {
		t.Fatalf("after reset: %q", got)
	}
}

func TestSetHeaders(t *testing.T) {
	t.Parallel()
	task := Task{
		Header:   capture.Headers{{Name: "Accept", Value: "*/*"}, {Name: "X-Token", Value: "old"}, {Name: "X-Token", Value: "dup"}, {Name: "Referer", Value: "/"}},
		Cookies:  []Cookie{{Name: "session", Value: "rec"}, {Name: "theme", Value: "dark"}},
		cookieAt: 4, Method: "GET", Path: "/", Target: &Target{Host: "t"},
	}
	task.setHeaders(capture.Headers{{Name: "x-token", Value: "new"}, {Name: "X-Load-Test", Value: "amp"}, {Name: "Cookie", Value: "theme=light; flag=1"}})
	var u user
	got := string(u.build(nil, &Script{}, &task))
	want := "GET / HTTP/1.1\r\nHost: t\r\nAccept: */*\r\nx-token: new\r\nReferer: /\r\n" +
		"Cookie: session=rec; theme=light; flag=1\r\nX-Load-Test: amp\r\n\r\n"
	if got != want {
		t.Fatalf("request\n%q\nwant\n%q", got, want)
	}
}
