package capture

import (
	"mime"
	"path"
	"strings"
)

// StaticPath reports whether a URL path names a static asset by its
// extension: an image, font, style sheet, script or source map. It is the
// test of amp record --skip-static (before a request is sent) and of amp
// filter --skip-static.
func StaticPath(urlPath string) bool {
	switch strings.ToLower(path.Ext(urlPath)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".bmp", ".tif", ".tiff",
		".woff", ".woff2", ".ttf", ".otf", ".eot",
		".css", ".js", ".mjs", ".map":
		return true
	}
	return false
}

// StaticType reports whether a Content-Type is that of a static asset (the
// response side of --skip-static).
func StaticType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	switch {
	case strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "font/"):
		return true
	}
	switch mt {
	case "text/css", "text/javascript", "application/javascript", "application/x-javascript",
		"application/ecmascript", "text/ecmascript", "application/font-woff", "application/vnd.ms-fontobject",
		"application/x-font-ttf", "application/x-font-otf":
		return true
	}
	return false
}
