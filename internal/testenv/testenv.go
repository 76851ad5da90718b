// Package testenv finds what amp's tests need outside the repository (the
// shared test data, a Chromium binary) and decides what a missing piece means:
// a skip with a clear message on a user's own clone, a failure under CI
// (CI=true), where .ci/run installs everything.
package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// InCI reports whether the tests run under CI (CI=true).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with msg, or fails it under CI.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (required under CI=true)", msg)
	}
	t.Skip(msg)
}

// RepoRoot returns the directory holding amp's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testenv: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// SharedTestdata returns the path of ../shared/testdata/sub beside the
// repository, skipping (or failing under CI) when it is absent.
func SharedTestdata(t testing.TB, sub string) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(t), "..", "shared", "testdata", sub)
	if _, err := os.Stat(dir); err != nil {
		Missing(t, "shared test data not found at "+dir+"; it comes with the project's shared/ folder")
	}
	return dir
}

// Chromium returns the path of a Chromium or Chrome binary, skipping (or
// failing under CI) when there is none. AMP_CHROMIUM overrides the search.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AMP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, "no chromium binary found (apt-get install chromium, or set AMP_CHROMIUM)")
	return ""
}

// Browser starts headless Chromium for a chromedp test: the binary found by
// Chromium, the flags of ChromiumFlags, a fresh profile directory, and
// extra options (window size, proxy, ...). It returns the allocator context,
// which ends after timeout, on cancel (which stops the browser) or when the
// test ends; pass it to chromedp.NewContext.
func Browser(t testing.TB, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(Chromium(t)), chromedp.UserDataDir(t.TempDir())}
	for _, f := range ChromiumFlags() {
		name, value, hasValue := strings.Cut(strings.TrimPrefix(f, "--"), "=")
		if hasValue {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, acancel := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	stop := func() { acancel(); cancel() }
	t.Cleanup(stop)
	return actx, stop
}

// ChromiumFlags are the flags tests start headless Chromium with on this
// kind of machine: no sandbox (root), no GPU, and no background networking,
// whose connection attempts a closed network refuses.
func ChromiumFlags() []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage",
	}
}
