package fielderr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestDescribe(t *testing.T) {
	flag := func(f string) string { return "--" + strings.ToLower(f) }
	err := errors.Join(
		&Error{Field: "Users", Value: "0", Problem: "want at least 1"},
		fmt.Errorf("wrapped: %w", &Error{Field: "Loop", Problem: "needs {Timeline}, not {Stages} {"}),
		&Error{Field: "Users", Value: "0", Problem: "want at least 1"},
	)
	if got, want := Describe(err, flag), "--users 0: want at least 1; --loop needs --timeline, not --stages {"; got != want {
		t.Errorf("Describe = %q, want %q", got, want)
	}
	if got := All(err); len(got) != 3 || got[1].Field != "Loop" {
		t.Errorf("All = %+v", got)
	}
	if got := Describe(errors.New("a\nb"), flag); got != "a; b" {
		t.Errorf("plain error: %q", got)
	}
	if got := (&Error{Field: "Rate", Value: "-1", Problem: "want > 0"}).Error(); got != "Rate -1: want > 0" {
		t.Errorf("Error = %q", got)
	}
}
