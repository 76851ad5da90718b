// Package proxy is amp's recording proxy, built on github.com/elazarl/goproxy.
// A Recorder is either a forward proxy for HTTP and HTTPS — HTTPS decrypted by
// MITM with a local CA (see LoadOrCreateCA), or tunnelled unrecorded — or,
// with Config.Target, a reverse proxy that forwards everything to one target,
// for clients without proxy settings. Every exchange it passes is grouped
// into a session (capture.GroupingSink) and written to a capture.Sink (a
// capture.Writer in amp record), and flushed, as soon as its response has been passed on to the client, so a
// recorder that is killed loses at most the exchanges in flight.
//
// # What is recorded
//
//   - The request as the client sent it: method, absolute URL, protocol and
//     header fields in wire order and case, minus Proxy-Connection and
//     Proxy-Authorization (meant for the proxy). In reverse mode the URL and
//     Host name the target, as the target received them.
//   - The response as the upstream sent it: status, protocol, header fields in
//     wire order and case, and the body with its Content-Encoding (the proxy
//     neither strips Accept-Encoding nor decompresses).
//   - Bodies de-chunked, up to Config.MaxBody bytes each; the rest streams
//     through unchanged and the record is marked truncated, with the full
//     size and, for responses, the SHA-256 of the whole body.
//   - A WebSocket conversation (a 101 to WebSocket): the messages of both
//     directions as they pass, joined from their frames, unmasked and
//     inflated under permessage-deflate, with their times, as the
//     exchange's WS messages, written when the conversation ends (or, when
//     recording stops during it, as far as it went, flagged incomplete).
//   - Start (the request reaching the proxy), time to the first response byte
//     and duration up to the last byte passed to the client, the client's
//     address, and the session key.
//
// Bodies stream to the client while they are copied; nothing is buffered
// whole. An upstream failure (refused, timeout, TLS) reaches the client as a
// 502 with the reason and is recorded as a failed exchange (FlagFailed); a
// response cut short is recorded as incomplete.
//
// # Header order and case
//
// net/http parses header fields into maps, which lose their order and the
// case of their names. The Recorder recovers both by keeping the bytes read on
// client connections (decrypted ones inside HTTPS tunnels included) and on
// upstream connections it dialed, and finding each message's head there; a
// head is used only when its fields equal what net/http parsed, else the
// fields are recorded from the map (Host first, then sorted by name, canonical
// case). The proxying itself goes through net/http both ways, which writes
// header fields in its own order and canonical case: the recording keeps what
// the client and the upstream sent, the other side sees net/http's rendering.
//
// # HTTPS
//
// A CONNECT is answered by goproxy's CONNECT handling; the Recorder then
// decrypts the tunnel with a certificate for the requested host signed by the
// CA (goproxy's signer: a DNS or IP subject alternative name, cached per
// host) and serves the requests inside it with net/http, handing each to
// goproxy as an absolute https:// request, rather than through goproxy's own
// MITM loop, so that HTTPS takes the same recording path as plain HTTP.
// Hosts left out by --include-host/--exclude-host, and all HTTPS with NoMITM,
// are tunnelled without decryption.
//
// # Safety
//
// The default listen address is loopback; a non-loopback one needs
// Config.AllowRemote, and clients outside it are refused. Config.RedactHeaders
// replaces header values in the recording. Outbound traffic never goes through
// HTTP_PROXY or HTTPS_PROXY from the environment.
package proxy
