package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// CA file names inside DefaultCADir.
const (
	// CACertFile is the name of the CA certificate (PEM) in DefaultCADir.
	CACertFile = "ca.pem"
	// CAKeyFile is the name of the CA private key (PEM, mode 0600) in DefaultCADir.
	CAKeyFile = "ca-key.pem"
	// CAValidity is how long a CA created by LoadOrCreateCA is valid.
	CAValidity = 10 * 365 * 24 * time.Hour
)

// CA is the local certificate authority that signs the per-host certificates
// of HTTPS interception (MITM). Clients must trust its certificate.
type CA struct {
	// Cert is the CA certificate and private key, with Leaf parsed.
	Cert tls.Certificate
	// CertPEM is the certificate in PEM form, as given to clients to trust.
	CertPEM []byte
	// CertPath and KeyPath are the files it was loaded from or written to.
	CertPath, KeyPath string
	// Created is set when LoadOrCreateCA generated the CA just now.
	Created bool
}

// DefaultCADir returns the directory amp keeps its CA in: "amp" in the user's
// configuration directory (e.g. ~/.config/amp).
func DefaultCADir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no user config directory for the CA (%v); pass --ca-cert and --ca-key", err)
	}
	return filepath.Join(dir, "amp"), nil
}

// CAPaths returns the CA certificate and key paths to use: the given ones, or
// the files in DefaultCADir when both are empty.
func CAPaths(certPath, keyPath string) (string, string, error) {
	if certPath != "" || keyPath != "" {
		if certPath == "" || keyPath == "" {
			return "", "", errors.New("--ca-cert and --ca-key go together")
		}
		return certPath, keyPath, nil
	}
	dir, err := DefaultCADir()
	if err != nil {
		return "", "", err
	}
	return filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile), nil
}

// LoadOrCreateCA loads the CA from certPath and keyPath, or, when neither file
// exists, generates a new one (ECDSA P-256, valid for CAValidity) and writes
// it there: the key with mode 0600, its directory with 0700. Empty paths mean
// the files in DefaultCADir.
func LoadOrCreateCA(certPath, keyPath string) (*CA, error) {
	certPath, keyPath, err := CAPaths(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	_, certErr := os.Stat(certPath)
	_, keyErr := os.Stat(keyPath)
	switch {
	case certErr == nil && keyErr == nil:
		return LoadCA(certPath, keyPath)
	case errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist):
		return createCA(certPath, keyPath)
	case certErr == nil:
		return nil, fmt.Errorf("CA certificate %s exists but its key %s does not: restore the key, or remove the certificate to make a new CA", certPath, keyPath)
	case keyErr == nil:
		return nil, fmt.Errorf("CA key %s exists but its certificate %s does not: restore the certificate, or remove the key to make a new CA", keyPath, certPath)
	case !errors.Is(certErr, fs.ErrNotExist):
		return nil, fmt.Errorf("CA certificate: %w", certErr)
	default:
		return nil, fmt.Errorf("CA key: %w", keyErr)
	}
}

// loadCA is the CA of a Recorder: the default one, created on first use,
// or the files given, which must exist (a mistyped path must not quietly
// become a new CA that no client trusts).
func loadCA(certPath, keyPath string) (*CA, error) {
	if certPath == "" && keyPath == "" {
		return LoadOrCreateCA("", "")
	}
	for _, f := range []struct{ flag, path string }{{"--ca-cert", certPath}, {"--ca-key", keyPath}} {
		if _, err := os.Stat(f.path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s %s: no such file (amp ca --ca-cert %s --ca-key %s --create makes a new CA there)", f.flag, f.path, certPath, keyPath)
		}
	}
	return LoadCA(certPath, keyPath)
}

// LoadCA loads a CA certificate and its key (PEM). The key must not be
// readable by other users, and the certificate must be a CA that is valid now.
func LoadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(keyPath); err == nil && st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("CA key %s is readable by other users (mode %04o): run chmod 600 %s", keyPath, st.Mode().Perm(), keyPath)
		}
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("CA %s / %s: %w", certPath, keyPath, err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("CA certificate %s: %w", certPath, err)
	}
	if !leaf.IsCA {
		return nil, fmt.Errorf("CA certificate %s is not a CA certificate (basic constraints CA:FALSE)", certPath)
	}
	if now := time.Now(); now.After(leaf.NotAfter) || now.Before(leaf.NotBefore) {
		return nil, fmt.Errorf("CA certificate %s is valid only from %s to %s: make a new one", certPath,
			leaf.NotBefore.Format(time.DateOnly), leaf.NotAfter.Format(time.DateOnly))
	}
	cert.Leaf = leaf
	return &CA{Cert: cert, CertPEM: certPEM, CertPath: certPath, KeyPath: keyPath}, nil
}

// createCA generates a CA and writes it to certPath and keyPath, neither of
// which may exist.
func createCA(certPath, keyPath string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   strings.TrimSpace("amp recording proxy CA " + host),
			Organization: []string{"amp (local recording proxy, not a public CA)"},
		},
		// Leaf certificates are back-dated 30 days; keep them inside the CA's validity.
		NotBefore:             now.Add(-31 * 24 * time.Hour),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	for _, dir := range []string{filepath.Dir(certPath), filepath.Dir(keyPath)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("CA directory: %w", err)
		}
	}
	if err := writeNew(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("CA key: %w", err)
	}
	if err := writeNew(certPath, certPEM, 0o644); err != nil {
		_ = os.Remove(keyPath)
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	ca, err := LoadCA(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	ca.Created = true
	return ca, nil
}

// writeNew writes data to a file that must not exist yet, syncing it.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
	}
	return err
}

// Fingerprint returns the SHA-256 fingerprint of the CA certificate as
// colon-separated upper-case hex, as browsers show it.
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.Cert.Certificate[0])
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// certStore caches the per-host certificates goproxy signs, so each host is
// signed once per run (goproxy.CertStorage).
type certStore struct {
	mu    sync.Mutex
	certs map[string]*tls.Certificate
}

// Fetch returns the cached certificate for hostname, generating it once.
func (s *certStore) Fetch(hostname string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.certs[hostname]; c != nil {
		return c, nil
	}
	c, err := gen()
	if err != nil {
		return nil, err
	}
	if s.certs == nil {
		s.certs = make(map[string]*tls.Certificate)
	}
	s.certs[hostname] = c
	return c, nil
}
