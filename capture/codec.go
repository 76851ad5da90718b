package capture

import (
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Field numbers of an exchange record. They are part of the format: never reuse
// or renumber one; add new ones at the end. Readers skip numbers they don't know.
const (
	fSession = iota + 1
	fClient
	fStart
	fTTFB
	fDuration
	fFlags
	fError
	fReqMethod
	fReqURL
	fReqProto
	fReqHeader
	fReqBody
	fReqBodySize
	fRespStatus
	fRespProto
	fRespHeader
	fRespBody
	fRespBodySize
	fRespBodyHash
	fRespTrailer // 20: Response.Trailer; readers that predate it skip it
)

// fWS holds the WebSocket messages of an upgraded exchange (Exchange.WS).
// Numbers 20 to 31 are left to other additions of the same version.
const fWS = 32

// encodeExchange writes e as a msgpack map keyed by small integers. Empty fields
// are left out.
func encodeExchange(enc *msgpack.Encoder, e *Exchange) error {
	n := 0
	count := func(ok bool) {
		if ok {
			n++
		}
	}
	count(e.Session != "")
	count(e.Client != "")
	count(!e.Start.IsZero())
	count(e.TTFB != 0)
	count(e.Duration != 0)
	count(e.Flags != 0)
	count(e.Error != "")
	count(e.Request.Method != "")
	count(e.Request.URL != "")
	count(e.Request.Proto != "")
	count(len(e.Request.Header) > 0)
	count(len(e.Request.Body) > 0)
	count(e.Request.BodySize != int64(len(e.Request.Body)))
	count(e.Response.Status != 0)
	count(e.Response.Proto != "")
	count(len(e.Response.Header) > 0)
	count(len(e.Response.Body) > 0)
	count(e.Response.BodySize != int64(len(e.Response.Body)))
	count(len(e.Response.BodyHash) > 0)
	count(len(e.Response.Trailer) > 0)
	count(len(e.WS) > 0)

	w := fieldWriter{enc: enc}
	w.err = enc.EncodeMapLen(n)
	if e.Session != "" {
		w.str(fSession, e.Session)
	}
	if e.Client != "" {
		w.str(fClient, e.Client)
	}
	if !e.Start.IsZero() {
		w.int(fStart, e.Start.UnixNano())
	}
	if e.TTFB != 0 {
		w.int(fTTFB, int64(e.TTFB))
	}
	if e.Duration != 0 {
		w.int(fDuration, int64(e.Duration))
	}
	if e.Flags != 0 {
		w.int(fFlags, int64(e.Flags))
	}
	if e.Error != "" {
		w.str(fError, e.Error)
	}
	if e.Request.Method != "" {
		w.str(fReqMethod, e.Request.Method)
	}
	if e.Request.URL != "" {
		w.str(fReqURL, e.Request.URL)
	}
	if e.Request.Proto != "" {
		w.str(fReqProto, e.Request.Proto)
	}
	if len(e.Request.Header) > 0 {
		w.headers(fReqHeader, e.Request.Header)
	}
	if len(e.Request.Body) > 0 {
		w.bytes(fReqBody, e.Request.Body)
	}
	if e.Request.BodySize != int64(len(e.Request.Body)) {
		w.int(fReqBodySize, e.Request.BodySize)
	}
	if e.Response.Status != 0 {
		w.int(fRespStatus, int64(e.Response.Status))
	}
	if e.Response.Proto != "" {
		w.str(fRespProto, e.Response.Proto)
	}
	if len(e.Response.Header) > 0 {
		w.headers(fRespHeader, e.Response.Header)
	}
	if len(e.Response.Body) > 0 {
		w.bytes(fRespBody, e.Response.Body)
	}
	if e.Response.BodySize != int64(len(e.Response.Body)) {
		w.int(fRespBodySize, e.Response.BodySize)
	}
	if len(e.Response.BodyHash) > 0 {
		w.bytes(fRespBodyHash, e.Response.BodyHash)
	}
	if len(e.Response.Trailer) > 0 {
		w.headers(fRespTrailer, e.Response.Trailer)
	}
	if len(e.WS) > 0 {
		w.wsMessages(fWS, e.WS)
	}
	return w.err
}

// fieldWriter writes key/value pairs and keeps the first error.
type fieldWriter struct {
	enc *msgpack.Encoder
	err error
}

func (w *fieldWriter) key(k int) bool {
	if w.err == nil {
		w.err = w.enc.EncodeInt(int64(k))
	}
	return w.err == nil
}

func (w *fieldWriter) str(k int, v string) {
	if w.key(k) {
		w.err = w.enc.EncodeString(v)
	}
}

func (w *fieldWriter) int(k int, v int64) {
	if w.key(k) {
		w.err = w.enc.EncodeInt(v)
	}
}

func (w *fieldWriter) bytes(k int, v []byte) {
	if w.key(k) {
		w.err = w.enc.EncodeBytes(v)
	}
}

// headers writes the fields as one flat array: name, value, name, value, ...
func (w *fieldWriter) headers(k int, h Headers) {
	if !w.key(k) {
		return
	}
	if w.err = w.enc.EncodeArrayLen(2 * len(h)); w.err != nil {
		return
	}
	for _, f := range h {
		if w.err = w.enc.EncodeString(f.Name); w.err != nil {
			return
		}
		if w.err = w.enc.EncodeString(f.Value); w.err != nil {
			return
		}
	}
}

// decodeExchange reads a record written by encodeExchange into a zeroed e.
// limit bounds the element counts a corrupt record may claim: no count can
// exceed the record's size in bytes.
func decodeExchange(dec *msgpack.Decoder, e *Exchange, limit int) error {
	n, err := dec.DecodeMapLen()
	if err != nil {
		return err
	}
	if n < 0 || n > limit {
		return fmt.Errorf("exchange record claims %d fields", n)
	}
	reqSizeSet, respSizeSet := false, false
	for i := 0; i < n; i++ {
		k, err := dec.DecodeInt()
		if err != nil {
			return fmt.Errorf("field key: %w", err)
		}
		switch k {
		case fSession:
			e.Session, err = dec.DecodeString()
		case fClient:
			e.Client, err = dec.DecodeString()
		case fStart:
			var ns int64
			ns, err = dec.DecodeInt64()
			e.Start = time.Unix(0, ns).UTC()
		case fTTFB:
			var d int64
			d, err = dec.DecodeInt64()
			e.TTFB = time.Duration(d)
		case fDuration:
			var d int64
			d, err = dec.DecodeInt64()
			e.Duration = time.Duration(d)
		case fFlags:
			var f uint32
			f, err = dec.DecodeUint32()
			e.Flags = Flags(f)
		case fError:
			e.Error, err = dec.DecodeString()
		case fReqMethod:
			e.Request.Method, err = dec.DecodeString()
		case fReqURL:
			e.Request.URL, err = dec.DecodeString()
		case fReqProto:
			e.Request.Proto, err = dec.DecodeString()
		case fReqHeader:
			e.Request.Header, err = decodeHeaders(dec, limit)
		case fReqBody:
			e.Request.Body, err = dec.DecodeBytes()
		case fReqBodySize:
			e.Request.BodySize, err = dec.DecodeInt64()
			reqSizeSet = true
		case fRespStatus:
			e.Response.Status, err = dec.DecodeInt()
		case fRespProto:
			e.Response.Proto, err = dec.DecodeString()
		case fRespHeader:
			e.Response.Header, err = decodeHeaders(dec, limit)
		case fRespBody:
			e.Response.Body, err = dec.DecodeBytes()
		case fRespBodySize:
			e.Response.BodySize, err = dec.DecodeInt64()
			respSizeSet = true
		case fRespBodyHash:
			e.Response.BodyHash, err = dec.DecodeBytes()
		case fRespTrailer:
			e.Response.Trailer, err = decodeHeaders(dec, limit)
		case fWS:
			e.WS, err = decodeWSMessages(dec, limit)
		default:
			err = dec.Skip() // a field from a newer writer of the same version
		}
		if err != nil {
			return fmt.Errorf("field %d: %w", k, err)
		}
	}
	if !reqSizeSet {
		e.Request.BodySize = int64(len(e.Request.Body))
	}
	if !respSizeSet {
		e.Response.BodySize = int64(len(e.Response.Body))
	}
	return nil
}

func decodeHeaders(dec *msgpack.Decoder, limit int) (Headers, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return nil, err
	}
	if n <= 0 {
		return nil, nil
	}
	if n%2 != 0 || n > limit {
		return nil, fmt.Errorf("header list has bad length %d", n)
	}
	h := make(Headers, n/2)
	for i := range h {
		if h[i].Name, err = dec.DecodeString(); err != nil {
			return nil, err
		}
		if h[i].Value, err = dec.DecodeString(); err != nil {
			return nil, err
		}
	}
	return h, nil
}
