// Package fielderr is the field error of amp's library configurations
// (replay.Config, kube.Config): a problem in one named field, which each
// front end words in its own terms (the command line as its flag, the web
// UI as its form field).
package fielderr

import (
	"slices"
	"strings"
)

// Error is a problem with one field of a configuration.
type Error struct {
	// Field is the configuration's field, e.g. "Rate".
	Field string
	// Value is the bad value as given (quoted where that helps), or "" when
	// the problem needs none.
	Value string
	// Problem says what is wrong. It may name other fields as {Field}.
	Problem string
}

// Error describes the problem with the configuration's field names.
func (e *Error) Error() string { return e.Describe(nil) }

// Describe describes the problem with name(field) for every field it names
// (nil: the field names as they are).
func (e *Error) Describe(name func(field string) string) string {
	if name == nil {
		name = func(f string) string { return f }
	}
	var b strings.Builder
	rest := e.Problem
	for {
		// The innermost {...}: a lone brace stays as it is.
		j := strings.IndexByte(rest, '}')
		i := strings.LastIndexByte(rest[:max(j, 0)], '{')
		if j < 0 || i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(name(rest[i+1 : j]))
		rest = rest[j+1:]
	}
	if e.Value == "" {
		return name(e.Field) + " " + b.String()
	}
	return name(e.Field) + " " + e.Value + ": " + b.String()
}

// All returns the field errors in err (one, or those joined by errors.Join
// or wrapped), in order; nil when it holds none.
func All(err error) []*Error {
	var out []*Error
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*Error); ok {
			out = append(out, fe)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// Describe describes err on one line, naming the fields of each field error
// with name, one problem after another separated by "; " (a problem said
// twice in the same words, once); an error without field errors is its
// text with line breaks made "; ".
func Describe(err error, name func(field string) string) string {
	fes := All(err)
	if len(fes) == 0 {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	var parts []string
	for _, fe := range fes {
		if d := fe.Describe(name); !slices.Contains(parts, d) {
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, "; ")
}
