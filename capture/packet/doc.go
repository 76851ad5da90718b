// Package packet imports HTTP/1.x and cleartext HTTP/2 (h2c) traffic from
// packet captures: pcap and pcapng files (capture/ingest unwraps gzip and
// tells them from HAR) and live capture on Linux, without cgo.
//
// NewSource reads the packets of a file (Sniff recognises its format). An
// Importer decodes each packet's link layer (Ethernet with VLAN tags, Linux
// cooked capture v1 and v2, BSD loopback, raw IP), IPv4 or IPv6 and TCP,
// reassembles each connection in both directions with gopacket's reassembly
// (out-of-order and retransmitted segments, connections whose SYN the capture
// missed), parses both directions as HTTP/1.x synchronously, and pairs each
// response with its request in order, so that pipelining works. Exchanges are
// handed over as they complete, with timings from the packets' timestamps:
// the request's first byte, the response's first and last bytes.
//
// What cannot be recovered is flagged, never dropped silently: a request
// without response is handed over with status 0 and capture.FlagNoResponse;
// a message with bytes missing (a capture drop, the snap length, a body cut
// by the end of the capture) carries capture.FlagIncomplete. Connections that
// are not HTTP (TLS, other protocols) are counted in Stats.Skipped.
//
// HTTP/2 over cleartext is decoded too, with prior knowledge (the client's
// preface) or after an "Upgrade: h2c": frames, HPACK header blocks, one
// exchange per stream with its trailers (see h2.go). A gap loses HPACK's
// state; the rest of such a connection is counted as SkipHTTP2Lost.
//
// After a 101 to WebSocket both directions are read as WebSocket frames
// (capture/wsframe: masked or not, fragmented, permessage-deflate as the 101
// negotiated it) into the upgrade's messages (capture.Exchange.WS), each
// stamped with the time of the packet that completed it; the exchange is
// handed over when the connection ends, flagged incomplete when a gap or a
// malformed frame stopped the reading.
//
// Flushing and timeouts follow the capture's clock (the packet timestamps),
// never the wall clock, so an old capture imports the same way as a fresh
// one.
package packet
