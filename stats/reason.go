package stats

import (
	"strings"
	"unicode/utf8"
)

// Bounds on failure reasons, so that a target answering garbage cannot make
// the statistics, the JSON result or /metrics grow with every response.
const (
	// MaxReasons is how many distinct failure reasons an endpoint keeps;
	// failures with further new reasons are counted as OtherReason.
	MaxReasons = 16
	// OtherReason counts an endpoint's failures beyond MaxReasons reasons.
	OtherReason = "other"
	// MaxReasonLen bounds a reason, in bytes (cut at a character boundary).
	MaxReasonLen = 100
	// MaxSampleLen bounds the sample kept with a reason, in bytes.
	MaxSampleLen = 60
)

// CapText returns s as valid UTF-8 (invalid bytes become U+FFFD) of at most
// n bytes, cut at a character boundary and ending in "…" when cut. It
// returns s itself when it is already valid and short enough.
func CapText(s string, n int) string {
	if len(s) <= n && utf8.ValidString(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	const ell = "…"
	cut := max(n-len(ell), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// addFailure counts n failures with reason (and a sample) in m, keeping at
// most MaxReasons reasons besides OtherReason.
func addFailure(m map[string]*failAgg, reason, sample string, n, first, last int64) {
	f := m[reason]
	if f == nil {
		reason = CapText(reason, MaxReasonLen)
		if f = m[reason]; f == nil && len(m) >= MaxReasons && reason != OtherReason {
			reason, sample = OtherReason, ""
			f = m[reason]
		}
		if f == nil {
			f = &failAgg{first: first, last: last, sample: CapText(sample, MaxSampleLen)}
			m[reason] = f
		}
	}
	if f.sample == "" && sample != "" {
		f.sample = CapText(sample, MaxSampleLen)
	}
	f.n += n
	f.first, f.last = min(f.first, first), max(f.last, last)
}
