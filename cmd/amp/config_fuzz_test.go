package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzConfigFile: whatever a --config file holds, amp replay --print-config
// never panics, exits 0 or 1, and says what is wrong on one line.
func FuzzConfigFile(f *testing.F) {
	for _, seed := range []struct{ ext, text string }{
		{".yaml", "replay:\n  host: http://127.0.0.1:5000\n  users: 5\n  fail-if: [\"p(95)<500\"]\n"},
		{".yaml", "users: lots\n"},
		{".yaml", "replay: [1, 2]\n"},
		{".toml", "[replay]\nhost = \"http://127.0.0.1:5000\"\nusers = 5\n"},
		{".toml", "[kube.job]\nshards = 3\n"},
		{".yaml", "replay:\n  duration: 30\n  web: true\n"},
		{".toml", "users = [\n"},
	} {
		f.Add(seed.ext, []byte(seed.text))
	}
	rec := writeDemoRecording(f)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, ext string, text []byte) {
		if ext != ".toml" {
			ext = ".yaml"
		}
		path := filepath.Join(dir, "amp"+ext)
		if err := os.WriteFile(path, text, 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"amp", "replay", rec, "--config", path, "--print-config"}, &stdout, &stderr)
		if code != 0 && code != 1 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if code == 1 && (strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "amp: ")) {
			t.Fatalf("not one line: %q", stderr.String())
		}
	})
}
