package replay

import (
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/demosite"
)

func TestLocateAndExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text, value string
		wantLeft          string
	}{
		{name: "html input", text: `<form>` + "\n" + `  <input type="hidden" name="csrf_token" value="a1b2c3d4e5">`, value: "a1b2c3d4e5", wantLeft: `<input type="hidden" name="csrf_token" value="`},
		{name: "meta tag", text: `<head><meta name="csrf-token" content="Zx9-_y8w"></head>`, value: "Zx9-_y8w", wantLeft: `<meta name="csrf-token" content="`},
		{name: "json first key", text: `{"id":"9f3c2a1b","title":"x"}`, value: "9f3c2a1b", wantLeft: `{"id":"`},
		{name: "json later key", text: `{"title":"x","id":12345,"n":1}`, value: "12345", wantLeft: `,"id":`},
		{name: "query pair", text: `/next?step=2&token=abc123&x=1`, value: "abc123", wantLeft: `&token=`},
		// The second link is the one that was followed.
		{name: "second of a list", text: `<a href="/a/1111">one</a><a href="/a/2222">two</a>`, value: "2222", wantLeft: `<a href="/a/`},
		{name: "whole header", text: `tok-5555`, value: "tok-5555", wantLeft: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, ok := locate(tc.text, tc.value)
			if !ok {
				t.Fatalf("value not located")
			}
			if src.Left != tc.wantLeft {
				t.Errorf("left %q, want %q", src.Left, tc.wantLeft)
			}
			if tc.wantLeft == "" {
				src.Kind = SourceHeader
			} else {
				src.Kind = SourceBody
			}
			got, ok := extract(tc.text, src)
			if !ok || got != tc.value {
				t.Fatalf("extract = %q %v, want %q", got, ok, tc.value)
			}
			// The same source finds the live value in a live response.
			live := strings.ReplaceAll(tc.text, tc.value, "LIVE0value9")
			if got, ok := extract(live, src); !ok || got != "LIVE0value9" {
				t.Fatalf("live extract = %q %v", got, ok)
			}
		})
	}
	// A value that only occurs inside a longer token is not located.
	if _, ok := locate(`id=x123456y`, "123456"); ok {
		t.Error("located a value inside a longer token")
	}
}

func TestLearnDemositeFlow(t *testing.T) {
	t.Parallel()
	srv, _ := newDemo(t, demosite.Config{})
	rec := recordFlow(t, srv.URL, "")
	s := rec.Sessions[0]
	rules := Learn(s)
	if len(rules) == 0 {
		t.Fatal("nothing learned")
	}
	taskOf := func(method, pathPrefix string) int {
		for i, e := range s.Exchanges {
			if e.Request.Method == method && strings.HasPrefix(requestTarget(e.Request.URL), pathPrefix) {
				return i
			}
		}
		t.Fatalf("no %s %s in the recording", method, pathPrefix)
		return -1
	}
	loginForm, createArticle := taskOf("GET", "/login"), taskOf("POST", "/articles")
	var loginToken, articleID, headerToken bool
	for _, r := range rules {
		t.Logf("%s %q from task %d %s, used %v", r.Name, r.Value, r.Source.Task, r.Source.Describe(), r.Uses)
		switch {
		case r.Name == "csrf_token" && r.Source.Task == loginForm && r.Source.Kind == SourceField && r.Source.Name == "csrf_token":
			loginToken = true
		case r.Source.Task == createArticle && r.Source.Kind == SourceLocation && r.Source.Header == "Location":
			articleID = len(r.Uses) >= 3 // the page, the API read and the comment
		}
		for _, u := range r.Uses {
			if strings.EqualFold(u.Where, "header X-Csrf-Token") {
				headerToken = true
			}
		}
	}
	if !loginToken || !articleID || !headerToken {
		t.Fatalf("learned login token %v, article id from Location %v, token sent in X-CSRF-Token %v", loginToken, articleID, headerToken)
	}
	for _, r := range rules {
		if r.Value == "alice" || r.Value == "secret" {
			t.Errorf("learned a value the user typed: %q", r.Value)
		}
	}
}

// TestLearnIgnoresClientValues: a value the client sent before the server
// echoed it is not server-generated.
func TestLearnIgnoresClientValues(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	s := &capture.Session{Exchanges: []*capture.Exchange{
		{Start: t0, Request: capture.Request{Method: "GET", URL: "http://a/search?q=order-98765"},
			Response: capture.Response{Status: 200, Body: []byte(`<p>results for order-98765</p>`)}},
		{Start: t0.Add(time.Second), Request: capture.Request{Method: "GET", URL: "http://a/orders/order-98765"},
			Response: capture.Response{Status: 200}},
	}}
	if rules := Learn(s); len(rules) != 0 {
		t.Fatalf("learned %+v", rules)
	}
}
