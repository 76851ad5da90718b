package capture_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
)

// TestGroupingSink checks that a GroupingSink assigns session keys before
// the next Sink sees an exchange, passes its errors back and flushes it.
func TestGroupingSink(t *testing.T) {
	var buf bytes.Buffer
	w, err := capture.NewWriter(&buf, capture.FileHeader{Source: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	fail := errors.New("disk full")
	var failNext bool
	sink := capture.NewGroupingSink(capture.GroupConfig{}, capture.SinkFunc(func(e *capture.Exchange) error {
		keys = append(keys, e.Session)
		if failNext {
			return fail
		}
		return w.Write(e)
	}))
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, client := range []string{"192.0.2.1:1000", "198.51.100.2:2000", "192.0.2.1:1000"} {
		e := &capture.Exchange{Client: client, Start: t0.Add(time.Duration(i) * time.Second),
			Request: capture.Request{Method: "GET", URL: "http://shop.test/"}}
		if err := sink.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"1", "2", "1"}; !slices.Equal(keys, want) {
		t.Errorf("keys seen by the next sink = %q, want %q", keys, want)
	}
	if sink.Sessions() != 2 {
		t.Errorf("Sessions() = %d, want 2", sink.Sessions())
	}
	before := buf.Len()
	if err := capture.Flush(sink); err != nil { // reaches no Flusher: a SinkFunc
		t.Fatal(err)
	}
	if buf.Len() != before {
		t.Error("Flush through a SinkFunc flushed the Writer behind it")
	}
	if err := capture.Flush(w); err != nil || buf.Len() == before {
		t.Errorf("Flush(Writer) = %v, %d bytes after %d: want the buffer handed on", err, buf.Len(), before)
	}
	failNext = true
	if err := sink.Write(&capture.Exchange{Start: t0}); !errors.Is(err, fail) {
		t.Errorf("Write = %v, want the next sink's error", err)
	}
}
