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
	for _, name := range []string{
		"Amp-d260b661-3fda-4756-BECE-7054f215a1ab", // a letters-only group recorded
		"Amp-7d83db18-7220-43bb-b656-15b3d927e7cc", // none recorded, so fresh ones may differ in shape
	} {
		testRedirectToClientMadeName(t, srv.URL, name)
	}
}

func testRedirectToClientMadeName(t *testing.T, base, name string) {
	t.Helper()
	rec := recordingOf(
		ex("GET", base+"/index.php?title="+name+"&action=edit", nil, "", 200, htmlType, "<title>Editing "+name+" - Wiki</title>"),
		ex("POST", base+"/index.php?title="+name+"&action=submit", hdr("Content-Type", "application/x-www-form-urlencoded"), "text=x", 302, hdr("Location", base+"/index.php/"+name), ""),
		ex("GET", base+"/index.php/"+name, nil, "", 200, htmlType, "<title>"+name+" - Wiki</title>"),
	)
	cfg := fastConfig(base)
	cfg.Users, cfg.Iterations = 4, 200 // enough fresh UUIDs that some have a letters-only group
	res, _ := runReplay(t, rec, cfg)
	if res.Failures != 0 {
		t.Fatalf("%d failures: %s", res.Failures, describeFailures(res))
	}
}

func recordingOf(es ...*capture.Exchange) *capture.Recording {
	return &capture.Recording{Sessions: []*capture.Session{session(es...)}}
}
