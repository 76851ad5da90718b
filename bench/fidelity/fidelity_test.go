package fidelity

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDjangoSuite is the CI slice of the fidelity suite: run.sh for Django's admin, ids from 1 in
// every mode (scripted, --data, --no-correlate, Chromium) and ids from 1000 scripted and with --data. It runs when CI=true, where a
// missing tool fails it (.ci/run installs them), or when Django is installed; otherwise it skips.
func TestDjangoSuite(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	var missing []string
	for _, tool := range []string{"bash", "curl", "jq", "python3", "node", "npm", "/usr/bin/chromium"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import django").Run(); err != nil {
		missing = append(missing, "python3-django")
	}
	if len(missing) > 0 {
		if ci {
			t.Fatalf("CI=true and the Django fidelity suite needs %s (.ci/run installs them)", strings.Join(missing, ", "))
		}
		t.Skipf("not installed: %s (CI=true makes this a failure)", strings.Join(missing, ", "))
	}
	if testing.Short() {
		t.Skip("-short: the suite starts Django and Chromium")
	}

	readInputs(t)
	dir := t.TempDir()
	amp := filepath.Join(dir, "amp")
	build := exec.Command("go", "build", "-o", amp, "../../cmd/amp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building amp: %v\n%s", err, out)
	}
	// ids from 1 in every mode; ids from 1000 scripted and with --data (Chromium once is enough for CI's time)
	runs := []struct{ idbases, modes string }{
		{"1", "scripted data nocorrelate chromium"},
		{"1000", "scripted data"},
	}
	for _, r := range runs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "run.sh", "django")
		cmd.Env = append(os.Environ(), "AMP="+amp, "IDBASES="+r.idbases, "MODES="+r.modes)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		cancel()
		t.Logf("IDBASES=%s MODES=%q bench/fidelity/run.sh django:\n%s", r.idbases, r.modes, out.String())
		if err != nil {
			t.Errorf("run.sh django with ids from %s: %v (a row above is not as expected)", r.idbases, err)
			continue
		}
		for _, m := range strings.Fields(r.modes) {
			if !regexp.MustCompile(`(?m)^django +` + r.idbases + ` +` + m + ` .* ok`).MatchString(out.String()) {
				t.Errorf("run.sh printed no ok row for django, ids from %s, mode %s", r.idbases, m)
			}
		}
	}
}

// readInputs reads what the suite's result depends on — amp's Go sources and
// the suite's own scripts — so that go test's cache, which tracks the files a
// test opens but not those of the programs it runs, replays the suite
// whenever one of them changes instead of reporting a stale pass.
func readInputs(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "../.." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "work") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".mod", ".sum", ".sh", ".py", ".js", ".html", ".css":
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
