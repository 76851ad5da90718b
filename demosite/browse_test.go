package demosite_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ampload/amp/demosite"
)

func TestBrowse(t *testing.T) {
	t.Parallel()
	site := demosite.New(demosite.Config{})
	srv := httptest.NewServer(site)
	defer srv.Close()
	before := site.Stats()
	v, err := demosite.Browse(context.Background(), srv.Client(), srv.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	// home + css, login form + post + redirect, article form + post + redirect,
	// article page, API read, comment, home again.
	if v.Requests != 12 || len(v.ArticleID) != 16 {
		t.Fatalf("visit %+v", v)
	}
	after := site.Stats()
	if after.Articles != before.Articles+1 || after.Comments != before.Comments+1 || after.Visits != before.Visits+2 {
		t.Fatalf("site stats before %+v after %+v", before, after)
	}

	// A site that refuses the login stops the visit with a clear error.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		site.ServeHTTP(w, r)
	}))
	defer broken.Close()
	if _, err := demosite.Browse(context.Background(), broken.Client(), broken.URL, 0); err == nil ||
		err.Error() != "demosite: POST /login: status 403, want 200" {
		t.Fatalf("err = %v", err)
	}
}
