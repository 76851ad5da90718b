package replay_test

import (
	"bytes"
	"compress/gzip"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
)

// cvStart is the recorded start of the client-value sessions.
var cvStart = time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)

// cvExchange is one recorded exchange for the client-value tests.
type cvExchange struct {
	method, url, ct, body string
	header                capture.Headers // request fields besides Host and Content-Type
	respHeader            capture.Headers
	respBody              string
	gzip                  bool // gzip the response body
}

func cvSession(id string, xs ...cvExchange) *capture.Session {
	s := &capture.Session{ID: id}
	for i, x := range xs {
		h := capture.Headers{{Name: "Host", Value: "shop.example"}}
		if x.ct != "" {
			h = append(h, capture.Header{Name: "Content-Type", Value: x.ct})
		}
		body := []byte(x.respBody)
		rh := x.respHeader
		if x.gzip {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write(body)
			zw.Close()
			body = b.Bytes()
			rh = append(rh, capture.Header{Name: "Content-Encoding", Value: "gzip"})
		}
		s.Exchanges = append(s.Exchanges, &capture.Exchange{
			Session:  id,
			Start:    cvStart.Add(time.Duration(i) * time.Second),
			Duration: 50 * time.Millisecond,
			Request:  capture.Request{Method: x.method, URL: x.url, Header: append(h, x.header...), Body: []byte(x.body)},
			Response: capture.Response{Status: 200, Header: rh, Body: body},
		})
	}
	return s
}

const (
	clientUUID  = "9b2f6c1e-3a4d-4e7b-8f1a-2c3d4e5f6a7b" // v4, made by the page's script
	serverUUID  = "5d41402a-bc4b-4a76-b971-9d911017c592" // v4, handed out by the server
	csrfToken   = "Zx8KqP2mW9rT4vB7nY1cL6hJ3dF5gS0a"     // base64url-looking, from the login form
	csrfMasked  = "d41d8cd98f00b204e9800998ecf8427e"     // hex-looking, from a meta tag
	idemKey     = "7f3a9c2e4b1d8f6a0c5e3b7d9a1f4c2e"     // hex, Idempotency-Key
	clientNonce = "qW3eR5tY7uI9oP1aS2dF4g"               // base64url, a query nonce
	cookieToken = "Ab3dE5gH7jK9mN1pQ3sT5vX7"             // double-submit: cookie and field
	password    = "Password123456789"                    // the person typed it
	upperUUID   = "0E4F7C1A-9B2D-11EF-8C3A-0242AC120002" // v1, upper-case
)

var cvMillis = strconv.FormatInt(cvStart.Add(3*time.Second).UnixMilli(), 10)
var cvSeconds = strconv.FormatInt(cvStart.Add(-time.Hour).Unix(), 10)

// shopSession logs in through a CSRF-protected form, then uses an API the
// way a single-page app does.
func shopSession() *capture.Session {
	return cvSession("1",
		cvExchange{method: "GET", url: "http://shop.example/login",
			respHeader: capture.Headers{{Name: "Set-Cookie", Value: "csrftoken=" + cookieToken + "; Path=/"}},
			respBody:   `<form method=post><input type="hidden" value="` + csrfToken + `" name="csrf"><meta name="x" content="` + csrfMasked + `">`},
		cvExchange{method: "POST", url: "http://shop.example/login", ct: "application/x-www-form-urlencoded",
			body:   "csrf=" + csrfToken + "&username=admin&password=" + password + "&double=" + cookieToken,
			header: capture.Headers{{Name: "Cookie", Value: "csrftoken=" + cookieToken}, {Name: "X-CSRFToken", Value: csrfMasked}},
			// The order id comes back gzipped.
			respBody: `{"order":"` + serverUUID + `"}`, gzip: true},
		cvExchange{method: "GET", url: "http://shop.example/api/orders/" + serverUUID + "?_=" + cvMillis + "&nonce=" + clientNonce},
		cvExchange{method: "POST", url: "http://shop.example/api/orders/" + clientUUID, ct: "application/json",
			body:   `{"id":"` + clientUUID + `","at":` + cvMillis + `,"since":"` + cvSeconds + `","sku":"` + strings.ToUpper(serverUUID) + `","old":1500000000000}`,
			header: capture.Headers{{Name: "Idempotency-Key", Value: idemKey}, {Name: "X-Request-Id", Value: upperUUID}, {Name: "Authorization", Value: "Bearer " + idemKey + "ff"}},
		},
		// Static files with fingerprints and a version are not nonces.
		cvExchange{method: "GET", url: "http://shop.example/static/3f2a9c1b7d8e4f60a1b2c3d4e5f6a7b8/app.js?v=1234567890123456"},
	)
}

func TestClientValues(t *testing.T) {
	t.Parallel()
	got := replay.ClientValues(shopSession())
	want := []replay.ClientValue{
		{Value: cvMillis, Kind: replay.KindEpochMillis, Name: "_"},
		{Value: clientNonce, Kind: replay.KindBase64URL, Name: "nonce"},
		{Value: clientUUID, Kind: replay.KindUUID, Name: "orders"},
		{Value: cvSeconds, Kind: replay.KindEpochSeconds, Name: "since"},
		{Value: idemKey, Kind: replay.KindHex, Name: "Idempotency-Key"},
		{Value: upperUUID, Kind: replay.KindUUID, Name: "X-Request-Id"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("client values\n got %+v\nwant %+v", got, want)
	}
	for _, v := range got {
		switch v.Value {
		case csrfToken, csrfMasked, cookieToken, serverUUID, password:
			t.Errorf("%q came from the server or the person, not a generator: %+v", v.Value, v)
		}
	}
}

// TestClientValuesCSRF checks recorded CSRF tokens of several frameworks are
// never taken for client values, even where their shape is a nonce's.
func TestClientValuesCSRF(t *testing.T) {
	t.Parallel()
	const (
		django  = "vQ3xT8mK2pR7wN4yB6cF1hJ9dL5gS0aZeU2iO8kM3nP7rT1w" // csrfmiddlewaretoken
		rails   = "Kd9fJ2mQ7xV4bN8wR1tY6uP3sL5gH0aZcE7iO2kM9nB4vX1q" // authenticity_token
		laravel = "4dGq7XmP2kR9wT1yB6nV3cF8hJ5sL0aZ"                 // _token, in a header
	)
	s := cvSession("1",
		cvExchange{method: "GET", url: "http://wiki.example/edit",
			respBody: `<input type="hidden" name="csrfmiddlewaretoken" value="` + django + `">` +
				`<meta name="csrf-token" content="` + rails + `"><script>window.token="` + laravel + `"</script>`},
		cvExchange{method: "POST", url: "http://wiki.example/edit", ct: "multipart/form-data; boundary=b0",
			body: "--b0\r\nContent-Disposition: form-data; name=\"csrfmiddlewaretoken\"\r\n\r\n" + django +
				"\r\n--b0\r\nContent-Disposition: form-data; name=\"authenticity_token\"\r\n\r\n" + rails + "\r\n--b0--\r\n",
			header: capture.Headers{{Name: "X-Token", Value: laravel}}},
		// A token from outside the recording (a page the browser had cached)
		// under a CSRF name is no client value either.
		cvExchange{method: "POST", url: "http://wiki.example/save", ct: "application/x-www-form-urlencoded",
			body: "csrf_token=Mn4bV8cX2zL6kJ9hG1fD3sA5pO7iU0yT"},
	)
	if got := replay.ClientValues(s); len(got) != 0 {
		t.Errorf("client values %+v, want none", got)
	}
}

func TestClientValuesOf(t *testing.T) {
	t.Parallel()
	// Both people send the tenant id from a cached script; only the second
	// makes an order id.
	const tenant = "1c7e2b9a-4f3d-4a8e-9b6c-5d2e7f1a3b4c"
	const order = "6a1b3c5d-7e9f-4a2b-8c4d-6e8f0a2b4c6d"
	a := cvSession("1", cvExchange{method: "GET", url: "http://shop.example/t/" + tenant + "/cart"})
	b := cvSession("2", cvExchange{method: "PUT", url: "http://shop.example/t/" + tenant + "/orders/" + order})
	got := replay.ClientValuesOf([]*capture.Session{a, b})
	want := [][]replay.ClientValue{{}, {{Value: order, Kind: replay.KindUUID, Name: "orders"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

var (
	uuidRe  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	upperRe = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
)

func TestRegenerate(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	rnd := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		kind, old string
		check     func(t *testing.T, v string)
	}{
		{replay.KindUUID, clientUUID, func(t *testing.T, v string) {
			if !uuidRe.MatchString(v) || v[14] != '4' {
				t.Errorf("%q is not a lower-case v4 UUID", v)
			}
		}},
		{replay.KindUUID, upperUUID, func(t *testing.T, v string) {
			if !upperRe.MatchString(v) || v[14] != '1' {
				t.Fatalf("%q is not an upper-case v1 UUID", v)
			}
			// The v1 time is now: 100 ns since 1582-10-15.
			hexTime := v[15:18] + v[9:13] + v[0:8]
			ticks, _ := strconv.ParseUint(hexTime, 16, 64)
			if got := time.Unix(0, int64(ticks-0x01B21DD213814000)*100).UTC(); !got.Equal(now) {
				t.Errorf("v1 time %v, want %v", got, now)
			}
		}},
		{replay.KindUUID, "01936d8e-4b2a-7c3d-9e4f-5a6b7c8d9e0f", func(t *testing.T, v string) {
			if !uuidRe.MatchString(v) || v[14] != '7' {
				t.Fatalf("%q is not a v7 UUID", v)
			}
			ms, _ := strconv.ParseInt(v[0:8]+v[9:13], 16, 64)
			if ms != now.UnixMilli() {
				t.Errorf("v7 time %d, want %d", ms, now.UnixMilli())
			}
		}},
		{replay.KindHex, idemKey, func(t *testing.T, v string) {
			if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(v) {
				t.Errorf("%q is not 32 lower-case hex digits", v)
			}
		}},
		{replay.KindHex, "A1B2C3D4E5F60718", func(t *testing.T, v string) {
			if !regexp.MustCompile(`^[0-9A-F]{16}$`).MatchString(v) {
				t.Errorf("%q is not 16 upper-case hex digits", v)
			}
		}},
		{replay.KindBase64URL, "qW3eR5tY7uI9oP1aS2dF4g==", func(t *testing.T, v string) {
			if !regexp.MustCompile(`^[A-Za-z0-9_-]{22}==$`).MatchString(v) {
				t.Errorf("%q is not 22 base64url characters and ==", v)
			}
		}},
		{replay.KindEpochMillis, cvMillis, func(t *testing.T, v string) {
			if v != "1798859045678" {
				t.Errorf("%q, want now in ms", v)
			}
		}},
		{replay.KindEpochSeconds, cvSeconds, func(t *testing.T, v string) {
			if v != "1798859045" {
				t.Errorf("%q, want now in s", v)
			}
		}},
		{"unknown", "keep-me", func(t *testing.T, v string) {
			if v != "keep-me" {
				t.Errorf("%q, want the old value", v)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.old, func(t *testing.T) {
			a := replay.Regenerate(tc.kind, tc.old, now, rnd)
			tc.check(t, a)
			b := replay.Regenerate(tc.kind, tc.old, now, rnd)
			random := tc.kind == replay.KindUUID || tc.kind == replay.KindHex || tc.kind == replay.KindBase64URL
			if random && (a == b || a == tc.old) {
				t.Errorf("two regenerations %q and %q of %q: want fresh values", a, b, tc.old)
			}
		})
	}
	// A fresh value is again a client value of the same kind.
	for _, v := range []string{clientUUID, idemKey, clientNonce} {
		s := cvSession("1", cvExchange{method: "GET", url: "http://x.example/a?v=" + v})
		kind := replay.ClientValues(s)[0].Kind
		fresh := replay.Regenerate(kind, v, now, rnd)
		s = cvSession("1", cvExchange{method: "GET", url: "http://x.example/a?v=" + fresh})
		if got := replay.ClientValues(s); len(got) != 1 || got[0].Kind != kind {
			t.Errorf("regenerated %q from %q: found %+v, want kind %s", fresh, v, got, kind)
		}
	}
}

func TestAppendClientSwaps(t *testing.T) {
	t.Parallel()
	vals := replay.ClientValues(shopSession())
	now := cvStart.Add(48 * time.Hour)
	a := replay.AppendClientSwaps(nil, vals, now, rand.New(rand.NewPCG(1, 1)))
	b := replay.AppendClientSwaps(nil, vals, now, rand.New(rand.NewPCG(2, 2)))
	if len(a) != len(vals) || len(b) != len(vals) {
		t.Fatalf("%d and %d swaps for %d values", len(a), len(b), len(vals))
	}
	for i, v := range vals {
		if a[i].Old != v.Value || a[i].New == v.Value {
			t.Errorf("swap %+v for %+v: want a fresh value", a[i], v)
		}
		// Two users: random kinds differ, timestamps are both now.
		random := v.Kind != replay.KindEpochMillis && v.Kind != replay.KindEpochSeconds
		if random == (a[i].New == b[i].New) {
			t.Errorf("users sent %q and %q for %+v", a[i].New, b[i].New, v)
		}
	}
}

// FuzzClientValues checks that no request panics the finder, that every value
// it finds is one the request sends and regenerates to a value of its kind.
func FuzzClientValues(f *testing.F) {
	f.Add("http://x.example/o/"+clientUUID+"?_="+cvMillis, "application/json", `{"k":"`+idemKey+`","n":`+cvMillis+`}`)
	f.Add("http://x.example/?nonce="+clientNonce, "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"id\"\r\n\r\n"+upperUUID+"\r\n--b--\r\n")
	f.Add("x", "application/x-www-form-urlencoded", "a=%zz&b="+idemKey)
	rnd := rand.New(rand.NewPCG(3, 4))
	f.Fuzz(func(t *testing.T, u, ct, body string) {
		s := cvSession("1", cvExchange{method: "POST", url: u, ct: ct, body: body,
			header: capture.Headers{{Name: "X-Request-Id", Value: body}}})
		for _, v := range replay.ClientValues(s) {
			if !strings.Contains(u+body, v.Value) && !strings.Contains(u, strings.ReplaceAll(v.Value, " ", "+")) {
				// Values may be percent-encoded in the URL or body.
				continue
			}
			fresh := replay.Regenerate(v.Kind, v.Value, cvStart, rnd)
			if len(fresh) != len(v.Value) {
				t.Errorf("Regenerate(%s, %q) = %q: another length", v.Kind, v.Value, fresh)
			}
		}
		for _, kind := range []string{replay.KindUUID, replay.KindHex, replay.KindBase64URL, replay.KindEpochMillis} {
			replay.Regenerate(kind, body, cvStart, rnd)
		}
	})
}

// TestClientValuesEmbeddedUUID: a UUID the client put inside a longer value
// (a page title, a feed URL) is the client's too, and is found whole.
func TestClientValuesEmbeddedUUID(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := &capture.Session{Exchanges: []*capture.Exchange{
		{Start: t0, Request: capture.Request{Method: "GET", URL: "http://w/index.php?title=Amp-06ab9ab7-8937-4333-98b8-37c9ced93708&action=edit"},
			Response: capture.Response{Status: 200, Body: []byte(`<form action="/index.php?title=Amp-06ab9ab7-8937-4333-98b8-37c9ced93708&amp;action=submit">`)}},
		{Start: t0.Add(time.Second), Request: capture.Request{Method: "POST", URL: "http://w/subscribe",
			Header: capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}},
			Body:   []byte("url=http%3A%2F%2Ffeeds.example%2F3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b.xml")}},
	}}
	got := map[string]bool{}
	for _, v := range replay.ClientValues(s) {
		got[v.Value] = v.Kind == replay.KindUUID
	}
	for _, want := range []string{"06ab9ab7-8937-4333-98b8-37c9ced93708", "3f2b8c1e-9a4d-4e7b-8f1a-2c3d4e5f6a7b"} {
		if !got[want] {
			t.Errorf("%s not found as a client UUID; got %v", want, got)
		}
	}
}
