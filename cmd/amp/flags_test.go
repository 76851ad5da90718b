package main

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ampload/amp/replay"
)

// TestReplayFlagOfEveryField: every replay.Config field a user sets has the
// amp replay flag replayFlag names, so a field error never names a flag
// that does not exist.
func TestReplayFlagOfEveryField(t *testing.T) {
	names := flagNames(replayCommand().Flags)
	notFlags := []string{"Data", "Shards"} // loaded from --data; part of --shard I/N
	typ := reflect.TypeOf(replay.Config{})
	for i := range typ.NumField() {
		f := typ.Field(i).Name
		if slices.Contains(notFlags, f) {
			continue
		}
		if flag := replayFlag(f); !slices.Contains(names, strings.TrimPrefix(flag, "--")) {
			t.Errorf("Config.%s: replayFlag gives %s, which amp replay does not have", f, flag)
		}
	}
	err := replay.Config{Users: 0, Rate: 1, Speed: 1, Multiple: 1, Loop: true}.Validate()
	got := describeReplay(err)
	for _, want := range []string{"--host is required", "--users 0: want at least 1", "--loop needs --timeline", "--timeout 0s: want a positive duration"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"users", "users", 0}, {"usres", "users", 1}, {"user", "users", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := suggest("usres", []string{"users", "rate", "host"}); got != "users" {
		t.Errorf("suggest(usres) = %q", got)
	}
}
