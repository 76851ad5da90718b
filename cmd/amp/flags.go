package main

import (
	"strings"
	"unicode"

	"github.com/ampload/amp/internal/fielderr"
)

// replayFlag returns the amp replay flag of a replay.Config field, so that
// the library's field errors reach the user in the words they typed: the
// field's name in kebab case (MaxThink: --max-think), but for a few.
func replayFlag(field string) string {
	switch field {
	case "Headers":
		return "--header"
	case "CheckMode":
		return "--checks"
	case "Checks":
		return "--check"
	case "DataFile":
		return "--data"
	}
	var b strings.Builder
	b.WriteString("--")
	for i, r := range field {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// describeReplay describes an error of package replay on one line, naming
// flags where it names Config fields.
func describeReplay(err error) string { return fielderr.Describe(err, replayFlag) }
