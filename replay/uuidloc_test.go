package replay

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ampload/amp/capture"
)

// TestRedirectToClientMadeName: a redirect to a page named after a UUID the
// client made (in any letter case) is the same place when the UUID is made
// afresh.
func TestRedirectToClientMadeName(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			http.Redirect(w, r, "/index.php/"+r.URL.Query().Get("title"), http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		if title := r.URL.Query().Get("title"); title != "" {
			_, _ = w.Write([]byte("<title>Editing " + title + " - Wiki</title>"))
			return
		}
		_, _ = w.Write([]byte("<title>" + strings.TrimPrefix(r.URL.Path, "/index.php/") + " - Wiki</title>"))
	}))
	defer srv.Close()
	const name = "Amp-d260b661-3fda-4756-BECE-7054f215a1ab"
	rec := recordingOf(
		ex("GET", srv.URL+"/index.php?title="+name+"&action=edit", nil, "", 200, htmlType, "<title>Editing "+name+" - Wiki</title>"),
		ex("POST", srv.URL+"/index.php?title="+name+"&action=submit", hdr("Content-Type", "application/x-www-form-urlencoded"), "text=x", 302, hdr("Location", srv.URL+"/index.php/"+name), ""),
		ex("GET", srv.URL+"/index.php/"+name, nil, "", 200, htmlType, "<title>"+name+" - Wiki</title>"),
	)
	cfg := fastConfig(srv.URL)
	cfg.Users, cfg.Iterations = 2, 4
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
}

func recordingOf(es ...*capture.Exchange) *capture.Recording {
	return &capture.Recording{Sessions: []*capture.Session{session(es...)}}
}
