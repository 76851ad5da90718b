package demosite

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var templateFS embed.FS

// page is the data every HTML template receives; each page uses the fields it needs.
type page struct {
	Title string // the <title> and heading
	User  string // logged-in user name, empty if anonymous
	CSRF  string // the session's CSRF token, empty without a session; renders the csrf-token meta tag
	Error string // a form error shown above the form

	Visits    int64     // home
	Articles  []summary // articles
	Article   Article   // article
	Username  string    // login form refill
	FormTitle string    // new article form refill
	FormBody  string    // new article form refill
	Message   string    // error page
}

// parsePages parses each embedded templates/<name>.html together with
// templates/layout.html; it panics only if they are broken, which the tests
// rule out.
func parsePages() map[string]*template.Template {
	pageNames := []string{"home", "login", "articles", "article", "article_new", "error"}
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		pages[name] = template.Must(template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

// render writes the page name with status; dynamic pages are never cached.
func (s *Site) render(w http.ResponseWriter, status int, name string, p page) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, "demosite: rendering "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage renders an HTML error page with status and a message for people.
func (s *Site) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := s.basePage(r, http.StatusText(status))
	p.Message = msg
	s.render(w, status, "error", p)
}
