package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ampload/amp/capture"
)

// isURL reports whether a recording argument names an http(s) URL.
func isURL(arg string) bool {
	return strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://")
}

// loadRecording reads a recording from a file or an http(s) URL (a
// Kubernetes pod fetching the shared recording, say). Like capture.ReadFile,
// a cut recording comes back with what it holds and the truncation error;
// errors do not repeat the argument (readErrorText adds it).
func loadRecording(ctx context.Context, arg string) (*capture.Recording, error) {
	if !isURL(arg) {
		return capture.ReadFile(arg)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, arg, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	return capture.Read(resp.Body)
}
