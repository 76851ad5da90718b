package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ampload/amp/stats"
)

// Check is one explicit assertion on replayed responses (--check), in a
// small grammar, optionally scoped to an endpoint like a --fail-if
// threshold:
//
//	[SCOPE:] status == N | status != N | status in N,N,...
//	         header NAME exists | header NAME !exists
//	         header NAME contains TEXT | header NAME !contains TEXT
//	         body contains TEXT | body !contains TEXT
//	         json PATH exists | json PATH !exists
//	         json PATH == VALUE | json PATH != VALUE
//
//	SCOPE  "METHOD NAME" (POST /login) or "NAME" (every method), NAME as the
//	       reports name endpoints (/articles/{id}); without it, every request
//	TEXT   "double-quoted" (Go escapes), 'single-quoted', or the rest of the
//	       line as it stands
//	PATH   $ followed by .member, ["member"] or [index] steps: $.order.id,
//	       $.items[0].sku
//	VALUE  a JSON literal: "paid", 2, true, null (a bare word is a string)
//
// A failed check marks the task failed with the reason `check "EXPR"
// failed`, and what the response had as the sample; the body is that of the response decoded
// (gzip, deflate), up to the client's body cap.
type Check struct {
	// Expr is the expression as given.
	Expr string
	// Method and Name are the scope: the endpoint's method ("" any) and
	// name ("" every request).
	Method, Name string
	// What is the subject: "status", "header", "body" or "json".
	What string
	// Field is the header name or the JSON path, as given.
	Field string
	// Op is "==", "!=", "in", "exists", "!exists", "contains" or "!contains".
	Op string
	// Statuses are the codes of a status check.
	Statuses []int
	// Text is the text of contains, or the JSON value of == and != as written.
	Text string

	path []jsonStep
	want []byte // the JSON value, compact
	kind byte   // its kind
}

// jsonStep is one step of a JSON path: a member name or an array index.
type jsonStep struct {
	name  string
	index int // -1 for a member
}

// ParseCheck parses one --check expression. Its errors are one line that
// names the expression, ready to print.
func ParseCheck(expr string) (Check, error) {
	ck := Check{Expr: expr}
	fail := func(format string, args ...any) (Check, error) {
		return Check{}, &FieldError{Field: "Checks", Value: strconv.Quote(expr), Problem: fmt.Sprintf(format, args...)}
	}
	body := strings.TrimSpace(expr)
	if body == "" {
		return fail("empty; want e.g. 'POST /login: status == 302' or 'body contains \"Total\"'")
	}
	if checkSubject(body) == "" {
		// A scope ends at the first ':' after which a subject follows.
		found := false
		for i := 0; i < len(body); i++ {
			if body[i] != ':' {
				continue
			}
			rest := strings.TrimSpace(body[i+1:])
			if checkSubject(rest) == "" {
				continue
			}
			scope := strings.TrimSpace(body[:i])
			if scope == "" {
				return fail("nothing before ':'; want an endpoint such as 'GET /cart: body contains \"Total\"'")
			}
			ck.Name = scope
			if m, name, ok := strings.Cut(scope, " "); ok && isUpperWord(m) {
				ck.Method, ck.Name = m, strings.TrimSpace(name)
			}
			body = rest
			found = true
			break
		}
		if !found {
			return fail("want status, header, body or json (after an optional 'METHOD NAME:' scope)")
		}
	}
	ck.What = checkSubject(body)
	rest := strings.TrimSpace(body[len(ck.What):])
	switch ck.What {
	case "status":
		op, val := checkOp(rest, "==", "!=", "in")
		if op == "" {
			return fail("want status == N, status != N or status in N,N")
		}
		ck.Op = op
		for _, part := range strings.Split(val, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || n < 100 || n > 999 {
				return fail("%q is not a status code", strings.TrimSpace(part))
			}
			ck.Statuses = append(ck.Statuses, n)
		}
		if op != "in" && len(ck.Statuses) != 1 {
			return fail("%s takes one status; use 'status in %s' for several", op, val)
		}
	case "header":
		name, after, _ := strings.Cut(rest, " ")
		if name == "" || strings.ContainsAny(name, ":\"'") {
			return fail("want header NAME exists|!exists|contains TEXT|!contains TEXT")
		}
		ck.Field = name
		if err := ck.parseTextOp(strings.TrimSpace(after), true); err != nil {
			return fail("%v", err)
		}
	case "body":
		if err := ck.parseTextOp(rest, false); err != nil {
			return fail("%v", err)
		}
	case "json":
		path, after := cutJSONPath(rest)
		steps, err := parseJSONPath(path)
		if err != nil {
			return fail("%v", err)
		}
		ck.Field, ck.path = path, steps
		after = strings.TrimSpace(after)
		switch op, val := checkOp(after, "exists", "!exists", "==", "!="); op {
		case "exists", "!exists":
			if val != "" {
				return fail("nothing may follow %s", op)
			}
			ck.Op = op
		case "==", "!=":
			if val == "" {
				return fail("missing value after %s", op)
			}
			ck.Op, ck.Text = op, val
			var v any
			raw := []byte(val)
			if err := json.Unmarshal(raw, &v); err != nil {
				raw, _ = json.Marshal(checkText(val)) // a bare word is a string
			}
			var buf bytes.Buffer
			_ = json.Compact(&buf, raw)
			ck.want = buf.Bytes()
			ck.kind, _, _ = jsonSpan(ck.want, 0)
		default:
			return fail("want json PATH exists|!exists|== VALUE|!= VALUE")
		}
	}
	return ck, nil
}

// checkSubject returns the check subject s starts with, or "".
func checkSubject(s string) string {
	for _, w := range []string{"status", "header", "body", "json"} {
		if strings.HasPrefix(s, w) && (len(s) == len(w) || s[len(w)] == ' ' || s[len(w)] == '=' || s[len(w)] == '!') {
			return w
		}
	}
	return ""
}

func isUpperWord(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return s != ""
}

// checkOp returns the first of ops that s starts with (a word operator must
// end at a space or the end) and the trimmed rest.
func checkOp(s string, ops ...string) (string, string) {
	for _, op := range ops {
		if !strings.HasPrefix(s, op) {
			continue
		}
		rest := s[len(op):]
		if ckAlnum(op[len(op)-1]) && rest != "" && rest[0] != ' ' {
			continue
		}
		return op, strings.TrimSpace(rest)
	}
	return "", ""
}

// parseTextOp parses "contains TEXT", "!contains TEXT" and, for headers,
// "exists" and "!exists".
func (ck *Check) parseTextOp(s string, header bool) error {
	ops := []string{"contains", "!contains"}
	if header {
		ops = append(ops, "exists", "!exists")
	}
	op, val := checkOp(s, ops...)
	switch op {
	case "":
		return fmt.Errorf("want %s", strings.Join(ops, ", "))
	case "exists", "!exists":
		if val != "" {
			return fmt.Errorf("nothing may follow %s", op)
		}
	default:
		if val == "" {
			return fmt.Errorf("missing text after %s", op)
		}
		if (val[0] == '"' || val[0] == '\'') && (len(val) < 2 || val[len(val)-1] != val[0]) {
			return fmt.Errorf("unterminated quote in %s", val)
		}
		if val[0] == '"' {
			if _, err := strconv.Unquote(val); err != nil {
				return fmt.Errorf("bad quoted text %s", val)
			}
		}
		ck.Text = checkText(val)
	}
	ck.Op = op
	return nil
}

// checkText removes the quotes of "text" (Go escapes) or 'text'.
func checkText(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return s[1 : len(s)-1]
	}
	return s
}

// cutJSONPath splits s after the JSON path it starts with: at the first
// space outside brackets and quotes.
func cutJSONPath(s string) (string, string) {
	bracket, quote := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quote && c == '\\':
			i++
		case c == '"' && bracket:
			quote = !quote
		case quote:
		case c == '[':
			bracket = true
		case c == ']':
			bracket = false
		case c == ' ' && !bracket:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// parseJSONPath parses $.a.b[0]["c d"].
func parseJSONPath(p string) ([]jsonStep, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("JSON path %q must start with $, e.g. $.order.id", p)
	}
	var steps []jsonStep
	for i := 1; i < len(p); {
		switch p[i] {
		case '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			if j == i+1 {
				return nil, fmt.Errorf("JSON path %q: empty member name at %d", p, i+1)
			}
			steps = append(steps, jsonStep{name: p[i+1 : j], index: -1})
			i = j
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("JSON path %q: missing ']'", p)
			}
			in := p[i+1 : i+end]
			if n, err := strconv.Atoi(in); err == nil && n >= 0 {
				steps = append(steps, jsonStep{index: n})
			} else if u, err := strconv.Unquote(in); err == nil && len(in) > 0 && in[0] == '"' {
				steps = append(steps, jsonStep{name: u, index: -1})
			} else {
				return nil, fmt.Errorf("JSON path %q: [%s] is neither an index nor a \"member\"", p, in)
			}
			i += end + 1
		default:
			return nil, fmt.Errorf("JSON path %q: want . or [ at %d", p, i)
		}
	}
	return steps, nil
}

// eval reports whether the response c holds passes the check.
func (ck *Check) eval(c *conn, s *checkScratch) bool {
	switch ck.What {
	case "status":
		in := false
		for _, st := range ck.Statuses {
			in = in || c.status == st
		}
		return in == (ck.Op != "!=")
	case "header":
		var v []byte
		seen := false
		c.eachHeader(ck.Field, func(b []byte) {
			if !seen || ck.Op == "contains" && !bytes.Contains(v, []byte(ck.Text)) {
				v, seen = b, true
			}
		})
		switch ck.Op {
		case "exists":
			return seen
		case "!exists":
			return !seen
		}
		has := seen && bytes.Contains(v, []byte(ck.Text))
		return has == (ck.Op == "contains")
	case "body":
		b, ok := s.body(c)
		if !ok {
			return true // cut at the body cap or not decodable: not judged
		}
		has := bytes.Contains(b, []byte(ck.Text))
		return has == (ck.Op == "contains")
	}
	// json
	b, ok := s.body(c)
	if !ok {
		return true
	}
	i, end, found := jsonPathAt(b, ck.path)
	switch ck.Op {
	case "exists":
		return found
	case "!exists":
		return !found
	}
	eq := found && jsonEqual(b[i:end], ck.want, ck.kind)
	return eq == (ck.Op == "==")
}

// failure says what the response had that failed the check: the sample
// of the reason.
func (ck *Check) failure(c *conn, s *checkScratch) string {
	switch ck.What {
	case "status":
		return "status " + strconv.Itoa(c.status)
	case "header":
		if v := c.header(ck.Field); v != nil {
			return ck.Field + ": " + string(truncate(v, stats.MaxSampleLen))
		}
		return "no " + ck.Field
	case "json":
		if b, ok := s.body(c); ok {
			if i, end, found := jsonPathAt(b, ck.path); found {
				return ck.Field + " = " + string(truncate(b[i:end], stats.MaxSampleLen))
			}
			return "no " + ck.Field
		}
	}
	return ""
}

// jsonPathAt finds the value at path in the JSON body b.
func jsonPathAt(b []byte, path []jsonStep) (int, int, bool) {
	i := jsonWS(b, 0)
	kind, end, ok := jsonSpan(b, i)
	if !ok {
		return 0, 0, false
	}
	for _, st := range path {
		next := -1
		switch {
		case st.index < 0 && kind == 'o':
			jsonMembers(b, i, end, func(name []byte, v, vend int, k byte) {
				if next < 0 && jsonNameIs(name, st.name) {
					next, end, kind = v, vend, k
				}
			})
		case st.index >= 0 && kind == 'a':
			j, n := jsonWS(b, i+1), 0
			for j < end && b[j] != ']' {
				k, e, ok := jsonSpan(b, j)
				if !ok {
					return 0, 0, false
				}
				if n == st.index {
					next, end, kind = j, e, k
					break
				}
				n++
				j = jsonWS(b, e)
				if j < end && b[j] == ',' {
					j = jsonWS(b, j+1)
				}
			}
		}
		if next < 0 {
			return 0, 0, false
		}
		i = next
	}
	return i, end, true
}

// jsonNameIs compares a raw member name with a name.
func jsonNameIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == name
	}
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return false
	}
	return s == name
}

// jsonEqual compares a live JSON value with a compact expected one.
func jsonEqual(live, want []byte, kind byte) bool {
	if bytes.Equal(live, want) {
		return true
	}
	switch kind {
	case 'n':
		a, err1 := strconv.ParseFloat(string(live), 64)
		b, err2 := strconv.ParseFloat(string(want), 64)
		return err1 == nil && err2 == nil && a == b
	case 's', 'o', 'a':
		if kind == 's' && bytes.IndexByte(live, '\\') < 0 {
			return false
		}
		var x, y any
		if json.Unmarshal(live, &x) != nil || json.Unmarshal(want, &y) != nil {
			return false
		}
		xb, _ := json.Marshal(x)
		yb, _ := json.Marshal(y)
		return bytes.Equal(xb, yb)
	}
	return false
}
