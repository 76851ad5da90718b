package demosite

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded static file with the headers it is served with.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

// loadAssets reads the embedded static files and computes their ETags.
func loadAssets() map[string]asset {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic("demosite: embedded static files: " + err.Error()) // cannot happen with a valid embed
	}
	assets := make(map[string]asset, len(entries))
	for _, e := range entries {
		data, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic("demosite: embedded static files: " + err.Error())
		}
		sum := sha256.Sum256(data)
		assets[e.Name()] = asset{
			data:        data,
			contentType: contentType(e.Name()),
			etag:        `"` + hex.EncodeToString(sum[:8]) + `"`,
		}
	}
	return assets
}

// contentType returns the Content-Type of a static file, independent of the system's MIME tables.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	default:
		return "application/octet-stream"
	}
}

// static serves an embedded file with caching headers; conditional requests get 304.
func (s *Site) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := s.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, name, s.started, bytes.NewReader(a.data))
}
