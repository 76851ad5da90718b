package main

import (
	"fmt"
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
			"   amp ca --pem > amp-ca.pem     # just the certificate",
		Description: "The CA is made on first use (ECDSA P-256, valid 10 years) in the user config directory,\n" +
			"e.g. ~/.config/amp/ca.pem and ca-key.pem (mode 0600). Anyone with the key can impersonate\n" +
			"any site to clients that trust the CA: keep it private, trust it only where you record.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "ca-cert", Usage: "CA certificate `FILE` (default: amp's CA in the user config dir)"},
			&cli.StringFlag{Name: "ca-key", Usage: "CA key `FILE`, with --ca-cert"},
			&cli.BoolFlag{Name: "pem", Usage: "print only the certificate (PEM)"},
		},
		Action: runCA,
	}
}

func runCA(c *cli.Context) error {
	if c.NArg() != 0 {
		return usageError("ca: takes no arguments, got %q", c.Args().First())
	}
	ca, err := proxy.LoadOrCreateCA(c.String("ca-cert"), c.String("ca-key"))
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
