package proxy_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/proxy"
)

func TestValidate(t *testing.T) {
	if err := proxy.DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	tests := []struct {
		name   string
		change func(*proxy.Config)
		want   []string // every one must be reported
	}{
		{name: "remote listen", change: func(c *proxy.Config) { c.Listen = "0.0.0.0:8080" }, want: []string{"--listen 0.0.0.0:8080", "--allow-remote"}},
		{name: "remote listen allowed", change: func(c *proxy.Config) { c.Listen = ":8080"; c.AllowRemote = []string{"10.0.0.0/8"} }},
		{name: "localhost", change: func(c *proxy.Config) { c.Listen = "localhost:0" }},
		{name: "ipv6 loopback", change: func(c *proxy.Config) { c.Listen = "[::1]:0" }},
		{name: "bad listen", change: func(c *proxy.Config) { c.Listen = "8080" }, want: []string{`--listen "8080"`}},
		{name: "bad cidr", change: func(c *proxy.Config) { c.AllowRemote = []string{"10.0.0.0/33"} }, want: []string{`--allow-remote "10.0.0.0/33"`}},
		{name: "bad target", change: func(c *proxy.Config) { c.Target = "localhost:5000" }, want: []string{"--target"}},
		{name: "target with query", change: func(c *proxy.Config) { c.Target = "http://h/?a=1" }, want: []string{"--target"}},
		{name: "half a CA", change: func(c *proxy.Config) { c.CACert = "ca.pem" }, want: []string{"--ca-cert and --ca-key"}},
		{name: "many problems at once", change: func(c *proxy.Config) {
			c.MaxBody = -1
			c.StopTimeout = 0
			c.ExcludePaths = []string{"("}
			c.RedactHeaders = []string{"Bad Name"}
			c.SessionIdle = -time.Second
			c.IncludeHosts = []string{"http://x/"}
		}, want: []string{"--max-body", "--stop-timeout", "--exclude-path", "--redact-header", "--session-idle", "host pattern"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := proxy.DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "amp")
	cert, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca-key.pem")
	ca, err := proxy.LoadOrCreateCA(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Created || !ca.Cert.Leaf.IsCA || ca.Cert.Leaf.NotAfter.Before(time.Now().Add(9*365*24*time.Hour)) {
		t.Errorf("created %v, CA %v, until %v", ca.Created, ca.Cert.Leaf.IsCA, ca.Cert.Leaf.NotAfter)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(key)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("key mode %v (%v), want 0600", st.Mode().Perm(), err)
		}
	}
	again, err := proxy.LoadOrCreateCA(cert, key)
	if err != nil || again.Created || again.Fingerprint() != ca.Fingerprint() {
		t.Fatalf("reload: created %v, %v", again.Created, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(again.CertPEM) {
		t.Error("PEM not usable as a trust root")
	}
	if len(strings.Split(ca.Fingerprint(), ":")) != 32 {
		t.Errorf("fingerprint %s", ca.Fingerprint())
	}

	// A key others can read is refused with the fix.
	if runtime.GOOS != "windows" {
		if err := os.Chmod(key, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := proxy.LoadOrCreateCA(cert, key); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("readable key: %v", err)
		}
		_ = os.Chmod(key, 0o600)
	}
	// Half a CA is an error, not silently replaced.
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.LoadOrCreateCA(cert, key); err == nil || !strings.Contains(err.Error(), "does not") {
		t.Errorf("missing key: %v", err)
	}
	// Not a CA.
	if err := os.WriteFile(cert, []byte("not pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.LoadOrCreateCA(cert, key); err == nil {
		t.Error("garbage CA loaded")
	}
}

func TestDefaultCAPaths(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	cert, key, err := proxy.CAPaths("", "")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(cert) != proxy.CACertFile || filepath.Base(key) != proxy.CAKeyFile || filepath.Base(filepath.Dir(cert)) != "amp" {
		t.Errorf("paths %s %s", cert, key)
	}
	if _, _, err := proxy.CAPaths("a.pem", ""); err == nil {
		t.Error("half a pair accepted")
	}
}
