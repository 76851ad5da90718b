package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
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
// a cut recording comes back with what it holds and the truncation error,
// damaged records are skipped (damageText says which);
// errors do not repeat the argument (readErrorText adds it).
func loadRecording(ctx context.Context, arg string) (*capture.Recording, error) {
	skip := capture.ReadOptions{SkipDamaged: true}
	if !isURL(arg) {
		return capture.ReadFileWith(arg, skip)
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
	return capture.ReadWith(resp.Body, skip)
}

// shownName is how a recording argument is printed: a URL without its
// query, fragment and user information, which may carry a token (amp kube
// job's --recording-url reaches the pods this way, and pod logs are read by
// many).
func shownName(arg string) string {
	if !isURL(arg) {
		return arg
	}
	u, err := url.Parse(arg)
	if err != nil {
		return "the recording's URL"
	}
	u.User, u.RawQuery, u.Fragment, u.RawFragment = nil, "", "", ""
	if strings.Contains(arg, "?") {
		return u.String() + "?…"
	}
	return u.String()
}

// damageText says what a reader skipped in the recording at path, or "".
func damageText(path string, rec *capture.Recording) string {
	if rec == nil || len(rec.Damaged) == 0 {
		return ""
	}
	if len(rec.Damaged) == 1 {
		d := rec.Damaged[0]
		return fmt.Sprintf("%s: skipped 1 damaged record at byte %d (%d bytes: %s)", path, d.Offset, d.Length, d.Detail)
	}
	offs := make([]string, len(rec.Damaged))
	for i, d := range rec.Damaged {
		offs[i] = strconv.FormatInt(d.Offset, 10)
	}
	return fmt.Sprintf("%s: skipped %d damaged records at bytes %s", path, len(rec.Damaged), strings.Join(offs, ", "))
}
