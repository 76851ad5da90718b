package replay

// The scanners of the checks: a page's title and form set, a JSON body's
// shape, without allocating (check.go).

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// HTML ----------------------------------------------------------------------

// pageTag is one start or end tag found by nextHTMLTag.
type pageTag struct {
	name  []byte // lower case not guaranteed; compare with asciiEqualFold
	attrs []byte // the text between the name and '>'
	end   bool   // </name>
}

// nextHTMLTag finds the next tag in b from i whose name starts with one of
// the (one to three) lower-case letters in first, skipping comments and the content of
// script and style elements. It returns the tag and the index after it, or
// ok false at the end.
func nextHTMLTag(b []byte, i int, first string) (t pageTag, next int, ok bool) {
	for {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			return pageTag{}, len(b), false
		}
		i += j + 1
		if i < len(b) && b[i] == '!' && bytes.HasPrefix(b[i:], []byte("!--")) {
			k := bytes.Index(b[i+3:], []byte("-->"))
			if k < 0 {
				return pageTag{}, len(b), false
			}
			i += 3 + k + 3
			continue
		}
		t.end = i < len(b) && b[i] == '/'
		if t.end {
			i++
		}
		if i >= len(b) {
			return pageTag{}, len(b), false
		}
		if c := b[i] | 0x20; c != 's' && c != first[0] && (len(first) < 2 || c != first[1]) && (len(first) < 3 || c != first[2]) {
			continue // not a tag the caller wants: not parsed
		}
		n := i
		for n < len(b) && (ckAlnum(b[n]) || b[n] == '-' || b[n] == ':') {
			n++
		}
		if n == i {
			continue // "<" in text, "<!DOCTYPE", "<?xml"
		}
		t.name = b[i:n]
		k := bytes.IndexByte(b[n:], '>')
		if k < 0 {
			return pageTag{}, len(b), false
		}
		t.attrs = b[n : n+k]
		next = n + k + 1
		if !t.end && (asciiEqualFold(t.name, "script") || asciiEqualFold(t.name, "style")) {
			closing := []byte("</script")
			if len(t.name) == 5 {
				closing = []byte("</style")
			}
			if e := indexFoldLower(b[next:], closing); e >= 0 {
				next += e
			} else {
				next = len(b)
			}
		}
		return t, next, true
	}
}

// indexFoldLower is bytes.Index ignoring ASCII case of b (sub is lower case).
func indexFoldLower(b, sub []byte) int {
	for i := 0; i+len(sub) <= len(b); i++ {
		j := 0
		for j < len(sub) {
			c := b[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
			j++
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

// tagAttr returns the value of the named attribute in a tag's attribute text,
// unquoted, or nil.
func tagAttr(attrs []byte, name string) []byte {
	for i := 0; i < len(attrs); {
		for i < len(attrs) && (ckSpace(attrs[i]) || attrs[i] == '/') {
			i++
		}
		n := i
		for i < len(attrs) && !ckSpace(attrs[i]) && attrs[i] != '=' && attrs[i] != '/' {
			i++
		}
		key := attrs[n:i]
		for i < len(attrs) && ckSpace(attrs[i]) {
			i++
		}
		var val []byte
		if i < len(attrs) && attrs[i] == '=' {
			i++
			for i < len(attrs) && ckSpace(attrs[i]) {
				i++
			}
			if i < len(attrs) && (attrs[i] == '"' || attrs[i] == '\'') {
				q := attrs[i]
				k := bytes.IndexByte(attrs[i+1:], q)
				if k < 0 {
					val, i = attrs[i+1:], len(attrs)
				} else {
					val, i = attrs[i+1:i+1+k], i+2+k
				}
			} else {
				v := i
				for i < len(attrs) && !ckSpace(attrs[i]) {
					i++
				}
				val = attrs[v:i]
			}
		}
		if len(key) > 0 && asciiEqualFold(key, name) {
			if val == nil {
				val = attrs[i:i]
			}
			return val
		}
		if len(key) == 0 && i < len(attrs) {
			i++
		}
	}
	return nil
}

// pageTitle returns the text of the document's <title>: the first one
// before <body> (an inline SVG's title in the page does not count).
func pageTitle(b []byte) ([]byte, bool) {
	for i := 0; ; {
		t, next, ok := nextHTMLTag(b, i, "tb")
		if !ok {
			return nil, false
		}
		i = next
		if t.end {
			continue
		}
		if asciiEqualFold(t.name, "body") || asciiEqualFold(t.name, "svg") {
			return nil, false
		}
		if asciiEqualFold(t.name, "title") {
			e := indexFoldLower(b[next:], []byte("</title"))
			if e < 0 {
				return nil, false
			}
			return b[next : next+e], true
		}
	}
}

// filledByPerson reports whether an input of this type is one a person fills in.
func filledByPerson(typ []byte) bool {
	switch {
	case len(typ) == 0:
		return true
	case asciiEqualFold(typ, "hidden"), asciiEqualFold(typ, "submit"), asciiEqualFold(typ, "button"),
		asciiEqualFold(typ, "image"), asciiEqualFold(typ, "reset"), asciiEqualFold(typ, "checkbox"),
		asciiEqualFold(typ, "radio"):
		return false
	}
	return true
}

// eachForm calls fn for every form of the page that has a field a person
// fills in: once with its action and a nil field, then once per such
// field's name.
func eachForm(b []byte, fn func(action, field []byte)) {
	var action []byte
	inForm, announced := false, false
	for i := 0; ; {
		t, next, ok := nextHTMLTag(b, i, "fit")
		if !ok {
			return
		}
		i = next
		switch {
		case asciiEqualFold(t.name, "form"):
			inForm, announced = !t.end, false
			if inForm {
				action = tagAttr(t.attrs, "action")
			}
		case t.end || !inForm:
		case asciiEqualFold(t.name, "input"), asciiEqualFold(t.name, "textarea"), asciiEqualFold(t.name, "select"):
			if asciiEqualFold(t.name, "input") && !filledByPerson(bytes.TrimSpace(tagAttr(t.attrs, "type"))) {
				continue
			}
			name := tagAttr(t.attrs, "name")
			if len(name) == 0 {
				continue
			}
			if !announced {
				fn(action, nil)
				announced = true
			}
			fn(action, name)
		}
	}
}

// pageForms returns a hash of the page's form set (see eachForm): the set of
// normalised actions and (action, field name) pairs, independent of order
// and repetition. keys is scratch space, returned for reuse.
func pageForms(keys []uint64, b []byte) (uint64, []uint64) {
	var tmp [128]byte
	var ah uint64 // the current form's action
	eachForm(b, func(action, field []byte) {
		if field == nil {
			ah = fnvHash(shapePath(tmp[:0], action))
			keys = append(keys, ah)
			return
		}
		keys = append(keys, fnvMore(fnvMore(ah, []byte{0}), shapeWords(tmp[:0], field, false)))
	})
	slices.Sort(keys)
	keys = slices.Compact(keys)
	h := uint64(ckFNVOffset)
	for _, k := range keys {
		for s := 0; s < 64; s += 8 {
			h ^= (k >> s) & 0xff
			h *= ckFNVPrime
		}
	}
	return h, keys
}

// describeForms lists a page's form set for a reason, bounded:
// "/login{password,username}" or "none".
func describeForms(b []byte) string {
	var parts []string
	var cur []string
	var act string
	flush := func() {
		if act != "" || cur != nil {
			slices.Sort(cur)
			parts = append(parts, act+"{"+strings.Join(slices.Compact(cur), ",")+"}")
		}
	}
	eachForm(b, func(action, field []byte) {
		if field == nil {
			flush()
			act, cur = string(shapePath(nil, action)), []string{}
			return
		}
		cur = append(cur, string(shapeWords(nil, field, false)))
	})
	flush()
	if len(parts) == 0 {
		return "none"
	}
	slices.Sort(parts)
	s := strings.Join(slices.Compact(parts), " ")
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// JSON ----------------------------------------------------------------------

// jsonShape is the recorded shape of a JSON body: the kind of the top-level
// value and the members at the first two levels, of the first element of
// arrays.
type jsonShape struct {
	kind byte // 'o' object, 'a' array, 's' string, 'n' number, 'b' bool, 'z' null
	keys []jsonKey
}

// jsonKey is one expected member.
type jsonKey struct {
	parent int // -1: a member of the root; else the index of the parent key
	name   string
	kind   byte
}

// maxShapeKeys bounds the members a shape expects (a bit set of them is
// kept while matching).
const maxShapeKeys = 64

// jsonDiff is a shape difference: kind 't' (top-level kind), 'm' (a member
// missing) or 'k' (a member of another kind), with the key index and the live kind.
type jsonDiff struct {
	kind byte
	key  int
	live byte
}

// newJSONShape reads the shape of a JSON body; nil when it is not JSON.
func newJSONShape(b []byte) *jsonShape {
	i := jsonWS(b, 0)
	kind, end, ok := jsonSpan(b, i)
	if !ok || jsonWS(b, end) != len(b) {
		return nil
	}
	s := &jsonShape{kind: kind}
	root, rootEnd := jsonRoot(b, i, kind, end)
	if root < 0 {
		return s
	}
	jsonMembers(b, root, rootEnd, func(name []byte, v, vend int, vk byte) {
		if !shapeKey(name) || len(s.keys) >= maxShapeKeys || s.find(-1, name) >= 0 {
			return // an id, too many, or a repeated name (the first counts)
		}
		parent := len(s.keys)
		s.keys = append(s.keys, jsonKey{parent: -1, name: string(name), kind: vk})
		if o, oend := jsonRoot(b, v, vk, vend); o >= 0 {
			jsonMembers(b, o, oend, func(name []byte, _, _ int, k byte) {
				if shapeKey(name) && len(s.keys) < maxShapeKeys && s.find(parent, name) < 0 {
					s.keys = append(s.keys, jsonKey{parent: parent, name: string(name), kind: k})
				}
			})
		}
	})
	return s
}

// shapeKey reports a member name that is part of a shape: not an id (a
// map keyed by ids) and without escapes.
func shapeKey(name []byte) bool {
	for _, c := range name {
		if c >= '0' && c <= '9' || c == '\\' {
			return false
		}
	}
	return true
}

// match compares a live body with the shape.
func (s *jsonShape) match(b []byte) jsonDiff {
	i := jsonWS(b, 0)
	kind, end, ok := jsonSpan(b, i)
	if !ok || jsonWS(b, end) != len(b) {
		return jsonDiff{kind: 'p'}
	}
	if kind != s.kind && kind != 'z' && s.kind != 'z' {
		return jsonDiff{kind: 't', live: kind}
	}
	root, rootEnd := jsonRoot(b, i, kind, end)
	if root < 0 {
		return jsonDiff{}
	}
	var found, visited uint64
	var diff jsonDiff
	jsonMembers(b, root, rootEnd, func(name []byte, v, vend int, vk byte) {
		k := s.find(-1, name)
		if k < 0 || diff.kind != 0 || found&(1<<k) != 0 {
			return
		}
		found |= 1 << k
		if want := s.keys[k].kind; vk != want && vk != 'z' && want != 'z' {
			diff = jsonDiff{kind: 'k', key: k, live: vk}
			return
		}
		if o, oend := jsonRoot(b, v, vk, vend); o >= 0 {
			visited |= 1 << k
			jsonMembers(b, o, oend, func(name []byte, _, _ int, ck byte) {
				j := s.find(k, name)
				if j < 0 || diff.kind != 0 || found&(1<<j) != 0 {
					return
				}
				found |= 1 << j
				if want := s.keys[j].kind; ck != want && ck != 'z' && want != 'z' {
					diff = jsonDiff{kind: 'k', key: j, live: ck}
				}
			})
		}
	})
	if diff.kind != 0 {
		return diff
	}
	for j, k := range s.keys {
		if found&(1<<j) != 0 {
			continue
		}
		if k.parent < 0 || visited&(1<<k.parent) != 0 {
			return jsonDiff{kind: 'm', key: j}
		}
	}
	return jsonDiff{}
}

func (s *jsonShape) find(parent int, name []byte) int {
	for j, k := range s.keys {
		if k.parent == parent && k.name == string(name) {
			return j
		}
	}
	return -1
}

func jsonKindName(k byte) string {
	switch k {
	case 'o':
		return "object"
	case 'a':
		return "array"
	case 's':
		return "string"
	case 'n':
		return "number"
	case 'b':
		return "bool"
	case 'z':
		return "null"
	}
	return "?"
}

func (s *jsonShape) keyPath(j int) string {
	k := s.keys[j]
	if k.parent >= 0 {
		return s.keys[k.parent].name + "." + k.name
	}
	return k.name
}

// describe says what differs, for a reason.
func (s *jsonShape) describe(d jsonDiff) string {
	switch d.kind {
	case 'p':
		return "body is not JSON"
	case 't':
		return fmt.Sprintf("%s, recorded %s", jsonKindName(d.live), jsonKindName(s.kind))
	case 'm':
		return fmt.Sprintf("%s missing, recorded %s", quoteShort([]byte(s.keyPath(d.key))), jsonKindName(s.keys[d.key].kind))
	}
	return fmt.Sprintf("%s is %s, recorded %s", quoteShort([]byte(s.keyPath(d.key))), jsonKindName(d.live), jsonKindName(s.keys[d.key].kind))
}

// jsonRoot returns the object whose members a shape lists for the value
// at b[i:end] of kind: the value itself, or an array's first element when
// that is an object; -1 when there is none.
func jsonRoot(b []byte, i int, kind byte, end int) (int, int) {
	switch kind {
	case 'o':
		return i, end
	case 'a':
		j := jsonWS(b, i+1)
		if j < len(b) && b[j] == '{' {
			if _, e, ok := jsonSpan(b, j); ok {
				return j, e
			}
		}
	}
	return -1, -1
}

// jsonMembers calls fn for each member of the well-formed object b[i:end]
// with its name (raw, without quotes) and value position and kind.
func jsonMembers(b []byte, i, end int, fn func(name []byte, v, vend int, kind byte)) {
	i = jsonWS(b, i+1)
	for i < end && b[i] == '"' {
		_, ne, ok := jsonSpan(b, i)
		if !ok {
			return
		}
		name := b[i+1 : ne-1]
		i = jsonWS(b, ne)
		if i >= end || b[i] != ':' {
			return
		}
		v := jsonWS(b, i+1)
		k, ve, ok := jsonSpan(b, v)
		if !ok {
			return
		}
		fn(name, v, ve, k)
		i = jsonWS(b, ve)
		if i < end && b[i] == ',' {
			i = jsonWS(b, i+1)
		}
	}
}

func jsonWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonSpan returns the kind of the JSON value at b[i] and the index after
// it; ok is false when it is not a well-formed value (nesting deeper than
// 512 levels counts as malformed).
func jsonSpan(b []byte, i int) (kind byte, end int, ok bool) {
	if i >= len(b) {
		return 0, i, false
	}
	switch c := b[i]; {
	case c == '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return 's', j + 1, true
			}
		}
		return 0, len(b), false
	case c == '{' || c == '[':
		kind = 'o'
		if c == '[' {
			kind = 'a'
		}
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				_, e, ok := jsonSpan(b, j)
				if !ok {
					return 0, len(b), false
				}
				j = e - 1
			case '{', '[':
				depth++
				if depth > 512 {
					return 0, len(b), false
				}
			case '}', ']':
				depth--
				if depth == 0 {
					if (b[j] == '}') != (kind == 'o') {
						return 0, j, false
					}
					return kind, j + 1, true
				}
			}
		}
		return 0, len(b), false
	case c == 't' && bytes.HasPrefix(b[i:], []byte("true")):
		return 'b', i + 4, true
	case c == 'f' && bytes.HasPrefix(b[i:], []byte("false")):
		return 'b', i + 5, true
	case c == 'n' && bytes.HasPrefix(b[i:], []byte("null")):
		return 'z', i + 4, true
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return 'n', j, true
	}
	return 0, i, false
}
