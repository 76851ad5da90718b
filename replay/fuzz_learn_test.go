package replay

import (
	"strings"
	"testing"

	"github.com/ampload/amp/capture"
)

// fuzzSession builds a two- or three-exchange session from fuzz input: a
// response (header fields and body of any type) and requests that send
// parts of it back in every place.
func fuzzSession(respHeader, respBody, reqURL, reqBody, ctype string) *capture.Session {
	var rh capture.Headers
	for _, line := range strings.Split(respHeader, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			rh = append(rh, capture.Header{Name: strings.TrimSpace(k), Value: strings.TrimSpace(v)})
		}
	}
	if !strings.HasPrefix(reqURL, "/") {
		reqURL = "/" + reqURL
	}
	return session(
		ex("GET", "http://a/", nil, "", 200, rh, respBody),
		ex("POST", "http://a"+reqURL, hdr("Content-Type", ctype, "Referer", "http://a"+reqURL, "X-Token", respBody), reqBody, 302, rh, respBody),
		ex("GET", "http://a"+reqURL, hdr("Content-Type", ctype), reqBody, 200, nil, ""),
	)
}

// FuzzLearn: the learner never panics, no rule comes from a response field
// no server hands out per client, every span lies inside its part, and the
// rebuilt requests are well formed.
func FuzzLearn(f *testing.F) {
	f.Add("Location: /a/1/b\nContent-Length: 1\nDate: 1", `<input value="5" name="id"><a href="/a/1/b">`, "/a/1/b?id=5", "id=5&x=1", "application/x-www-form-urlencoded")
	f.Add("Content-Type: application/json\nX-Ratelimit-Remaining: 42", `{"id":42,"a":[{"t":"tok123456789"}]}`, "/x/42", `{"t":"tok123456789","n":42}`, "application/json")
	f.Add("Set-Cookie: c=abcdef12; Path=/", `<textarea name=t>v1</textarea><select name=s><option selected value=9>`, "/p?t=v1", "--b\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\nv1\r\n--b\r\nContent-Disposition: form-data; name=\"s\"\r\n\r\n9\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Fuzz(func(t *testing.T, respHeader, respBody, reqURL, reqBody, ctype string) {
		s := fuzzSession(respHeader, respBody, reqURL, reqBody, ctype)
		l := learnSpans(s)
		for _, r := range l.rules {
			if r.Source.Kind == SourceHeader && neverSource(r.Source.Header) {
				t.Fatalf("rule %q from never-source field %s", r.Value, r.Source.Header)
			}
			if r.Source.Task < 0 || r.Source.Task >= len(s.Exchanges) {
				t.Fatalf("rule source task %d", r.Source.Task)
			}
			for _, u := range r.Uses {
				if u.Task <= r.Source.Task {
					t.Fatalf("rule %q used in task %d before or at its source %d", r.Value, u.Task, r.Source.Task)
				}
			}
		}
		for j, spans := range l.spans {
			e := s.Exchanges[j]
			for _, sp := range spans {
				var text string
				switch {
				case sp.part == partTarget:
					text = requestTarget(e.Request.URL)
				case sp.part == partBody:
					text = string(e.Request.Body)
				case sp.part >= 0 && sp.part < len(e.Request.Header):
					text = e.Request.Header[sp.part].Value
				default:
					t.Fatalf("span part %d", sp.part)
				}
				if sp.start < 0 || sp.end > len(text) || sp.start > sp.end {
					t.Fatalf("span %+v outside %q", sp, text)
				}
			}
		}
		// Build every request with live values in place.
		sc := &Script{Rules: l.rules}
		for j, e := range s.Exchanges {
			task := Task{Method: e.Request.Method, Path: requestTarget(e.Request.URL), Body: e.Request.Body, Target: &Target{Host: "t", Origin: "http://t"}}
			task.Header, task.Cookies, task.cookieAt, task.hdrFrom = fixHeaders(e.Request.Header, task.Target, "http://a", func(string) (string, bool) { return "http://t", true })
			sc.Tasks = append(sc.Tasks, task)
			_ = j
		}
		sc.attach(s, l.spans)
		u := &user{}
		for range sc.Rules {
			u.slots = append(u.slots, "L \"ive/%&")
		}
		for i := range sc.Tasks {
			req := u.build(nil, sc, &sc.Tasks[i])
			if !strings.Contains(string(req), "\r\n\r\n") {
				t.Fatalf("request without a head end: %q", req)
			}
		}
	})
}

// FuzzLiveValue: extracting any source from any live response never panics.
func FuzzLiveValue(f *testing.F) {
	f.Add(`<input value="5" name="id"><meta name="x" content="tok"><a href="/a/1/b?q=2">`, "/a/*/b", 2, "q")
	f.Add(`{"a":[{"id":1}],"b":"x"}`, "$.a[0].id", 0, "")
	f.Fuzz(func(t *testing.T, body, name string, seg int, param string) {
		for _, k := range []SourceKind{SourceField, SourceAttr, SourceLink, SourceJSON, SourceBody, SourceLocation, SourceCookie, SourceHeader} {
			src := Source{Kind: k, Name: name, Header: "Location", Segment: seg, Param: param, Attr: "content", Left: name}
			header := func(_ string, fn func(v []byte)) { fn([]byte(body)) }
			_, _ = liveValue(&src, header, []byte(body), "http://a/x/y")
		}
	})
}
