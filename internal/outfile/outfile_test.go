package outfile_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ampload/amp/internal/outfile"
)

const magic = "\x89AMP\r\n\x1a\n\x01\x00\x00\x00"

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec := filepath.Join(dir, "shop.amp")
	write(t, rec, magic+"rest")
	res := filepath.Join(dir, "old.json")
	write(t, res, "{}")
	if err := os.Symlink(rec, filepath.Join(dir, "sym.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(rec, filepath.Join(dir, "hard.json")); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	roOut := filepath.Join(ro, "x.json")
	if os.Geteuid() == 0 && runtime.GOOS == "linux" {
		roOut = "/proc/x.json" // root writes in any directory but not there
	}
	notDir := filepath.Join(dir, "file")
	write(t, notDir, "x")
	in := []string{rec, "http://example/x.amp", "-"}
	p := func(s string) string { return filepath.Join(dir, s) }
	for _, tc := range []struct {
		name  string
		plan  outfile.Plan
		want  string // "" = ok
		check func(t *testing.T)
	}{
		{"report onto its input", outfile.Plan{Inputs: in, Outputs: []outfile.Output{{"--json", rec, outfile.Report}}}, "--json " + rec + " is also an input", nil},
		{"report onto a symlink to the input", outfile.Plan{Inputs: in, Outputs: []outfile.Output{{"--html", p("sym.json"), outfile.Report}}}, "is the input " + rec + " (a link to it)", nil},
		{"report onto a hard link to the input", outfile.Plan{Inputs: in, Outputs: []outfile.Output{{"--csv", p("hard.json"), outfile.Report}}}, "(a link to it)", nil},
		{"report onto another recording", outfile.Plan{Outputs: []outfile.Output{{"--json", rec, outfile.Report}}}, "is an amp recording", nil},
		{"recording onto a file", outfile.Plan{Outputs: []outfile.Output{{"-o", res, outfile.Recording}}}, "already exists; nothing was changed (use --force", nil},
		{"recording onto a file, forced", outfile.Plan{Force: true, Outputs: []outfile.Output{{"-o", res, outfile.Recording}}}, "", nil},
		{"recording onto its input, forced", outfile.Plan{Force: true, Inputs: in, Outputs: []outfile.Output{{"-o", rec, outfile.Recording}}}, "is also an input", nil},
		{"report replaces a report", outfile.Plan{Inputs: in, Outputs: []outfile.Output{{"--json", res, outfile.Report}}}, "", nil},
		{"two outputs one file", outfile.Plan{Outputs: []outfile.Output{{"--json", p("a.out"), outfile.Report}, {"--html", p("./a.out"), outfile.Report}}}, "is also the --json output", nil},
		{"a directory", outfile.Plan{Outputs: []outfile.Output{{"--json", dir, outfile.Report}}}, "is a directory", nil},
		{"read-only directory", outfile.Plan{Outputs: []outfile.Output{{"--json", roOut, outfile.Report}}}, "cannot write in", nil},
		{"parent is a file", outfile.Plan{Outputs: []outfile.Output{{"--json", filepath.Join(notDir, "x.json"), outfile.Report}}}, "not a directory", nil},
		{"missing directories are created", outfile.Plan{Outputs: []outfile.Output{{"--csv", p("new/deeper/run_stats.csv"), outfile.Report}}}, "", func(t *testing.T) {
			if st, err := os.Stat(p("new/deeper")); err != nil || !st.IsDir() {
				t.Errorf("directory not created: %v", err)
			}
		}},
		{"empty paths are not asked for", outfile.Plan{Inputs: in, Outputs: []outfile.Output{{"--json", "", outfile.Report}}}, "", nil},
	} {
		err := tc.plan.Check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		case tc.check != nil:
			tc.check(t)
		}
	}
	// Nothing above changed a file or left a probe behind.
	if b, _ := os.ReadFile(rec); string(b) != magic+"rest" {
		t.Error("the recording changed")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestWriteAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.json")
	write(t, path, "old")
	boom := errors.New("boom")
	if err := outfile.Write(path, 0o644, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatalf("a failed write changed the file: %q", b)
	}
	if err := outfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := io.WriteString(w, "new")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new" {
		t.Fatalf("file = %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the directory, want 1", len(ents))
	}
}

func TestCreateNoReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.amp")
	f, err := outfile.Create(path, false, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, "appeared meanwhile")
	if _, err := f.WriteString("mine"); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("commit over a new file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "appeared meanwhile" {
		t.Fatalf("file = %q", b)
	}
	os.Remove(path)
	f, err = outfile.Create(path, false, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("mine"); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v, mode %v", err, st.Mode())
	}
	g, err := outfile.Create(filepath.Join(dir, "aborted.amp"), true, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	g.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the directory, want 1", len(ents))
	}
}
