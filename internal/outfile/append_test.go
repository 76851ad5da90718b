package outfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAppendAddsToTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "summary.md")
	for _, s := range []string{"one\n", "two\n"} {
		if err := Append(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, s); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := os.ReadFile(path); string(got) != "one\ntwo\n" {
		t.Errorf("file holds %q, want both runs in order", got)
	}
}

func TestAppendRefusesARecording(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.amp")
	rec := recordingMagic + "rest"
	if err := os.WriteFile(path, []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Append(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err })
	if err == nil || !strings.Contains(err.Error(), "amp recording") {
		t.Fatalf("err = %v, want a refusal naming the recording", err)
	}
	if got, _ := os.ReadFile(path); string(got) != rec {
		t.Errorf("the recording changed: %q", got)
	}
}
