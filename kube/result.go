package kube

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// BlockType is the PEM type of the result block amp replay --print-result
// writes: "-----BEGIN AMP RESULT-----".
const BlockType = "AMP RESULT"

// maxResult bounds a decoded result, against a corrupt or hostile log.
const maxResult = 512 << 20

// Result is one shard's result read back from a log.
type Result struct {
	Shard string // "I/N" as the shard wrote it, or "" for an unsharded run
	JSON  []byte // the result JSON, as amp replay --json writes it
}

// WriteResult writes a shard's result JSON to w as a PEM block: gzipped,
// base64 in 64-column lines between marker lines, with a Shard header.
// Short lines survive every log pipeline (container runtimes split long
// lines), gzip's checksum catches a cut or damaged block, and the text
// around the block does not matter to ReadResults.
func WriteResult(w io.Writer, shard string, result []byte) error {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(result); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	h := map[string]string{"Content-Encoding": "gzip"}
	if shard != "" {
		h["Shard"] = shard
	}
	var b bytes.Buffer
	b.WriteByte('\n') // the block starts on a line of its own
	if err := pem.Encode(&b, &pem.Block{Type: BlockType, Headers: h, Bytes: z.Bytes()}); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ReadResults returns the result blocks in log, in order; other text and
// other PEM blocks are skipped. A block that is there but does not decode
// (cut short, damaged) is an error; blocks before it are returned with it.
func ReadResults(log []byte) ([]Result, error) {
	var out []Result
	for rest := log; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != BlockType {
			continue
		}
		shard := b.Headers["Shard"]
		data, err := decodeBlock(b)
		if err != nil {
			name := "the result block"
			if shard != "" {
				name = "the result block of shard " + shard
			}
			return out, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, Result{Shard: shard, JSON: data})
	}
	return out, nil
}

func decodeBlock(b *pem.Block) ([]byte, error) {
	data := b.Bytes
	switch enc := b.Headers["Content-Encoding"]; enc {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("not gzip: %w", err)
		}
		data, err = io.ReadAll(io.LimitReader(zr, maxResult+1))
		if err != nil {
			return nil, fmt.Errorf("damaged or cut short: %w", err)
		}
		if len(data) > maxResult {
			return nil, fmt.Errorf("more than %s", Size(maxResult))
		}
	case "":
	default:
		return nil, fmt.Errorf("unknown Content-Encoding %q", enc)
	}
	if !json.Valid(data) {
		return nil, errors.New("not JSON")
	}
	return data, nil
}
