package fidelity

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDjangoSuite is the CI slice of the fidelity suite: run.sh for Django's admin, ids from 1 and
// from 1000, every mode (scripted, --data, --no-correlate, Chromium). It runs when CI=true, where a
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

	dir := t.TempDir()
	amp := filepath.Join(dir, "amp")
	build := exec.Command("go", "build", "-o", amp, "../../cmd/amp")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building amp: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "run.sh", "django")
	cmd.Env = append(os.Environ(), "AMP="+amp)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("bench/fidelity/run.sh django:\n%s", out.String())
	if err != nil {
		t.Fatalf("run.sh django: %v (a row above is not as expected)", err)
	}
	if !strings.Contains(out.String(), "django     1000  scripted") {
		t.Fatalf("run.sh printed no row for django with ids from 1000")
	}
}
