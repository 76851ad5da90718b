// Package proxy is amp's recording proxy, built on github.com/elazarl/goproxy.
// A Recorder is either a forward proxy for HTTP and HTTPS — HTTPS decrypted by
// MITM with a local CA (see LoadOrCreateCA), or tunnelled unrecorded — or,
// with Config.Target, a reverse proxy that forwards everything to one target,
// for clients without proxy settings. Every exchange it passes is grouped
// into a session (capture.Grouper) and written through a capture.Writer, and
// flushed, as soon as its response has been passed on to the client, so a
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
// net/http and goproxy parse header fields into maps, which lose their order
// and the case of their names. The Recorder recovers both by keeping the bytes
// read on client connections it accepted and on upstream connections it dialed
// and finding each message's head there; a head is used only when its fields
// equal what net/http parsed, else the fields are recorded from the map (Host
// first, then sorted by name, canonical case). That fallback is always taken
// for requests inside intercepted HTTPS tunnels, which goproxy reads from a TLS
// connection of its own. Requests are forwarded upstream by net/http, which
// writes header fields in its own order and canonical case.
//
// # Safety
//
// The default listen address is loopback; a non-loopback one needs
// Config.AllowRemote, and clients outside it are refused. Config.RedactHeaders
// replaces header values in the recording. Outbound traffic never goes through
// HTTP_PROXY or HTTPS_PROXY from the environment.
package proxy
