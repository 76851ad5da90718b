package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/ampload/amp/proxy"
	"github.com/urfave/cli/v2"
)

func caCommand() *cli.Command {
	return &cli.Command{
		Name:  "ca",
		Usage: "create or show the local CA that amp record decrypts HTTPS with, and how to trust it",
		UsageText: "amp ca [--ca-cert FILE --ca-key FILE] [--pem]\n\n" +
			"   amp ca                        # where the CA is (created on first use) and how to trust it\n" +
			"   amp ca --pem > amp-ca.pem     # just the certificate\n" +
			"   amp ca --ca-cert team.pem --ca-key team-key.pem --create   # a CA of your own, for amp record --ca-cert/--ca-key",
		Description: "The CA is made on first use (ECDSA P-256, valid 10 years) in the user config directory,\n" +
			"e.g. ~/.config/amp/ca.pem and ca-key.pem (mode 0600). Anyone with the key can impersonate\n" +
			"any site to clients that trust the CA: keep it private, trust it only where you record.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ca-cert", Usage: "CA certificate `FILE` (default: amp's CA in the user config dir)"},
			&cli.StringFlag{Name: "ca-key", Usage: "CA key `FILE`, with --ca-cert"},
			&cli.BoolFlag{Name: "pem", Usage: "print only the certificate (PEM)"},
			&cli.BoolFlag{Name: "create", Usage: "make a new CA at --ca-cert and --ca-key when neither exists (without it they must exist)"},
		},
		Action: runCA,
	}
}

func runCA(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("ca: takes no arguments, got %q", c.Args().First())
	}
	cert, key := c.String("ca-cert"), c.String("ca-key")
	if (cert == "") != (key == "") {
		return usageError("ca: --ca-cert and --ca-key go together")
	}
	for _, f := range []struct{ flag, path string }{{"--ca-cert", cert}, {"--ca-key", key}} {
		if _, err := os.Stat(f.path); f.path != "" && errors.Is(err, fs.ErrNotExist) && !c.Bool("create") {
			return usageError("ca: %s %s: no such file (add --create to make a new CA there)", f.flag, f.path)
		}
	}
	if c.Bool("create") && cert == "" {
		return usageError("ca: --create makes a CA at --ca-cert and --ca-key (amp's own CA is created on first use)")
	}
	ca, err := proxy.LoadOrCreateCA(cert, key)
	if err != nil {
		return usageError("ca: %v", err)
	}
	w := c.App.Writer
	if c.Bool("pem") {
		_, err := w.Write(ca.CertPEM)
		return err
	}
	state := "existing"
	if ca.Created {
		state = "created a new"
	}
	leaf := ca.Cert.Leaf
	p := ca.CertPath
	fmt.Fprintf(w, "amp ca: %s CA for amp record's HTTPS interception\n", state)
	fmt.Fprintf(w, "  certificate  %s\n  key          %s (keep it private)\n", p, ca.KeyPath)
	fmt.Fprintf(w, "  subject      %s\n  valid until  %s\n  SHA-256      %s\n\n", leaf.Subject.CommonName, leaf.NotAfter.Format(time.DateOnly), ca.Fingerprint())
	fmt.Fprintf(w, "Trust it in the clients you record (then proxy them through amp record):\n")
	fmt.Fprintf(w, "  curl         curl --cacert %s -x http://127.0.0.1:8080 https://example.com/\n", p)
	fmt.Fprintf(w, "  Go, OpenSSL  SSL_CERT_FILE=%s (replaces the system roots for that process)\n", p)
	fmt.Fprintf(w, "  Python       REQUESTS_CA_BUNDLE=%s   Node.js  NODE_EXTRA_CA_CERTS=%s\n", p, p)
	fmt.Fprintf(w, "  Chromium     certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n amp -i %s\n", p)
	fmt.Fprintf(w, "               (or chromium --ignore-certificate-errors-spki-list for a throwaway profile)\n")
	fmt.Fprintf(w, "  Firefox      Settings > Privacy & Security > Certificates > View Certificates > Import\n")
	fmt.Fprintf(w, "  Debian       cp %s /usr/local/share/ca-certificates/amp.crt && update-ca-certificates\n", p)
	fmt.Fprintf(w, "  Any device   browse to http://<proxy address>/ca.pem with amp record running\n")
	return nil
}
