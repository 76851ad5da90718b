package replay

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"io"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// contentDecoder returns a reader of body with the Content-Encoding enc
// undone — gzip, deflate, br or zstd — or nil for identity, an unknown
// encoding or a body that does not start as enc says. Browsers ask for br
// and zstd, and servers answer with them: their tokens are in there.
func contentDecoder(enc string, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil
		}
		return zr
	case "deflate":
		return flate.NewReader(body)
	case "br":
		return brotli.NewReader(body)
	case "zstd":
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxKeptBody*2))
		if err != nil {
			return nil
		}
		return zr.IOReadCloser()
	}
	return nil
}

// decodeAll undoes enc on body, up to limit bytes; it returns body itself
// when there is nothing to undo or it cannot be undone.
func decodeAll(enc string, body []byte, limit int64) []byte {
	r := contentDecoder(enc, bytes.NewReader(body))
	if r == nil {
		return body
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	out, err := io.ReadAll(io.LimitReader(r, limit))
	if err != nil && len(out) == 0 {
		return body
	}
	return out
}
