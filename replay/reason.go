package replay

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/ampload/amp/stats"
)

// Failure reasons are a fixed vocabulary, so that reports group failures
// and a target answering garbage cannot make a new reason per response (the
// offending bytes go to the sample kept with the reason, stats.Sample.Detail):
//
//	connection refused, connection reset, connection closed early, broken pipe,
//	timeout, timeout at stop, canceled, dns: ..., tls: ..., too many open files,
//	no free local port, bad response: WHAT, HTTP NNN [(recorded NNN)],
//	grpc: CODE (a gRPC call's non-OK grpc-status, e.g. grpc: UNAVAILABLE),
//	h2: stream reset (CODE), h2: connection closed by GOAWAY,
//	differs: WHAT (a response unlike its recording, check.go), check "EXPR" failed
//	(a --check), websocket handshake refused, websocket closed early,
//	websocket reply timeout (ws.go), error (anything else; see the sample)
//
// The collector keeps at most stats.MaxReasons of them per endpoint and
// counts the rest as stats.OtherReason.
const (
	// ReasonTimeoutAtStop is a request still unanswered when the run's hard
	// stop came (--stop-timeout after the end, or a second Ctrl-C).
	ReasonTimeoutAtStop = "timeout at stop"
	// ReasonRefused is a connection the target refused.
	ReasonRefused = "connection refused"
	// ReasonTimeout is a request that did not complete within --timeout.
	ReasonTimeout = "timeout"
	// ReasonError is a transport error outside the vocabulary; its text is
	// the sample.
	ReasonError = "error"
	// reasonBadResponse prefixes what was wrong with a response amp could
	// not parse.
	reasonBadResponse = "bad response: "
	// ReasonDiffers prefixes what differs from the recording in a response
	// check (see Differs).
	ReasonDiffers = "differs: "
)

// Differs returns the reason of a response check that failed, "differs:
// WHAT" (e.g. "differs: status 200, recorded 302"), bounded like every
// reason. WHAT should come from a small set of phrases; the actual bytes
// belong in the sample (stats.Sample.Detail), so that reasons stay few.
func Differs(what string) string {
	return stats.CapText(ReasonDiffers+what, stats.MaxReasonLen)
}

// responseError is a response amp could not parse: what was wrong (one of a
// few fixed phrases) and a sample of the bytes.
type responseError struct {
	what   string
	sample []byte
}

func (e *responseError) Error() string { return fmt.Sprintf("%s %q", e.what, e.sample) }

// badResponse returns a responseError, keeping a copy of the first bytes of
// sample (which may be a reused buffer).
func badResponse(what string, sample []byte) error {
	return &responseError{what: what, sample: append([]byte(nil), truncate(sample, stats.MaxSampleLen)...)}
}

// failureReason names a transport error in the vocabulary above.
func failureReason(err error) string {
	r, _ := classify(err)
	return r
}

// classify returns the reason of a transport error and a sample of what
// the target sent or said ("" when the reason says it all).
func classify(err error) (reason, detail string) {
	var ne net.Error
	var re *responseError
	switch {
	case errors.As(err, &re):
		return reasonBadResponse + re.what, string(re.sample)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout, ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return ReasonRefused, ""
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset", ""
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe", ""
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed early", ""
	case errors.Is(err, context.Canceled):
		return "canceled", ""
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files (raise ulimit -n, or share connections with --max-conns)", ""
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no free local port (too many connections)", ""
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsNotFound {
			return "dns: no such host", ""
		}
		return "dns: lookup failed", dnsErr.Err
	}
	var recErr tls.RecordHeaderError
	if errors.As(err, &recErr) {
		return "tls: not a TLS server", ""
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return "tls: certificate not trusted (use --insecure to skip verification)", ""
	}
	if r, ok := classifyH2(err); ok {
		return r, ""
	}
	msg := err.Error()
	if errors.Is(err, errTLS) {
		return "tls: handshake failed", msg
	}
	return ReasonError, msg
}
