package replay

import (
	"bytes"
	"html"
	"strings"
)

// htmlTag is one start tag of an HTML document.
type htmlTag struct {
	name  string     // lower-case
	attrs []htmlAttr // in order; names lower-case, values unescaped
	end   int        // the index just after the tag's '>'
}

type htmlAttr struct{ name, value string }

func (t *htmlTag) attr(name string) (string, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

// eachTag calls fn for every start tag of doc in order, skipping comments,
// end tags and the content of script, style and template-less raw text
// elements; fn returns false to stop.
func eachTag(doc []byte, fn func(t *htmlTag) bool) {
	var t htmlTag
	for i := 0; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return
		}
		i += j + 1
		if bytes.HasPrefix(doc[i:], []byte("!--")) {
			k := bytes.Index(doc[i:], []byte("-->"))
			if k < 0 {
				return
			}
			i += k + 3
			continue
		}
		if i >= len(doc) || !isLetter(doc[i]) {
			continue
		}
		k := i
		for k < len(doc) && !isSpace(doc[k]) && doc[k] != '>' && doc[k] != '/' {
			k++
		}
		t.name = strings.ToLower(string(doc[i:k]))
		t.attrs = t.attrs[:0]
		k = parseAttrs(doc, k, &t)
		t.end = k
		i = k
		if !fn(&t) {
			return
		}
		if t.name == "script" || t.name == "style" || t.name == "textarea" || t.name == "title" {
			if e := indexFold(doc[i:], "</"+t.name); e >= 0 {
				i += e
			}
		}
	}
}

// parseAttrs reads the attributes of a tag from doc[k:] up to its '>' and
// returns the index after it.
func parseAttrs(doc []byte, k int, t *htmlTag) int {
	for k < len(doc) {
		for k < len(doc) && (isSpace(doc[k]) || doc[k] == '/') {
			k++
		}
		if k >= len(doc) {
			return k
		}
		if doc[k] == '>' {
			return k + 1
		}
		n := k
		for k < len(doc) && !isSpace(doc[k]) && doc[k] != '=' && doc[k] != '>' && doc[k] != '/' {
			k++
		}
		name := strings.ToLower(string(doc[n:k]))
		for k < len(doc) && isSpace(doc[k]) {
			k++
		}
		value := ""
		if k < len(doc) && doc[k] == '=' {
			k++
			for k < len(doc) && isSpace(doc[k]) {
				k++
			}
			if k < len(doc) && (doc[k] == '"' || doc[k] == '\'') {
				q := doc[k]
				e := bytes.IndexByte(doc[k+1:], q)
				if e < 0 {
					return len(doc)
				}
				value = string(doc[k+1 : k+1+e])
				k += e + 2
			} else {
				v := k
				for k < len(doc) && !isSpace(doc[k]) && doc[k] != '>' {
					k++
				}
				value = string(doc[v:k])
			}
		}
		if name != "" {
			t.attrs = append(t.attrs, htmlAttr{name: name, value: html.UnescapeString(value)})
		}
	}
	return k
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// indexFold is bytes.Index ignoring ASCII case of an ASCII needle.
func indexFold(b []byte, needle string) int {
	for i := 0; i+len(needle) <= len(b); i++ {
		if strings.EqualFold(string(b[i:i+len(needle)]), needle) {
			return i
		}
	}
	return -1
}

// eachField calls fn for every form field of doc in document order with
// the name it is submitted under and the value the page fills in: an
// input's value, a textarea's text, a select's selected option. Buttons,
// file inputs, checkboxes and radio buttons are left out: their values are
// labels and choices, not state the server hands out. fn returns false to
// stop.
func eachField(doc []byte, fn func(name, value string) bool) {
	eachTag(doc, func(t *htmlTag) bool {
		name, ok := t.attr("name")
		if !ok || name == "" {
			return true
		}
		switch t.name {
		case "input":
			typ, _ := t.attr("type")
			switch strings.ToLower(typ) {
			case "submit", "button", "image", "reset", "file", "checkbox", "radio":
				return true
			}
			v, _ := t.attr("value")
			return fn(name, v)
		case "textarea":
			rest := doc[t.end:]
			e := indexFold(rest, "</textarea")
			if e < 0 {
				return true
			}
			text := string(rest[:e])
			// A newline right after the start tag is not part of the value.
			text = strings.TrimPrefix(strings.TrimPrefix(text, "\r"), "\n")
			return fn(name, html.UnescapeString(text))
		case "select":
			if _, multi := t.attr("multiple"); multi {
				return true
			}
			rest := doc[t.end:]
			if e := indexFold(rest, "</select"); e >= 0 {
				rest = rest[:e]
			}
			first, chosen, have := "", "", false
			eachTag(rest, func(o *htmlTag) bool {
				if o.name != "option" {
					return true
				}
				v, ok := o.attr("value")
				if !ok {
					v = optionText(rest[o.end:])
				}
				if !have {
					first, have = v, true
				}
				if _, sel := o.attr("selected"); sel {
					chosen = v
					return false
				}
				return true
			})
			if chosen == "" {
				chosen = first
			}
			if !have {
				return true
			}
			return fn(name, chosen)
		}
		return true
	})
}

func optionText(b []byte) string {
	if e := bytes.IndexByte(b, '<'); e >= 0 {
		b = b[:e]
	}
	return strings.TrimSpace(html.UnescapeString(string(b)))
}

// linkAttr reports the attributes that hold a URL a later request may
// follow.
func linkAttr(name string) bool {
	switch name {
	case "href", "action", "src", "formaction", "data-url", "data-href", "data-action", "hx-get", "hx-post":
		return true
	}
	return false
}

// tagKey returns what identifies a tag among others — its name, id,
// property or itemprop attribute — as "meta[name=csrf-token]", or "".
func tagKey(t *htmlTag) string {
	for _, k := range [...]string{"name", "id", "property", "itemprop"} {
		if v, ok := t.attr(k); ok && v != "" {
			return t.name + "[" + k + "=" + v + "]"
		}
	}
	return ""
}
