// Package wsframe reads and writes WebSocket frames (RFC 6455) and joins them
// into messages: the recording proxy and the packet importer read both
// directions of a conversation with a Reader, the replay client writes its
// messages with AppendFrame and reads the server's with a Reader too.
//
// A Reader is fed the bytes of one direction as they arrive, in pieces of
// any size; it parses frame headers, unmasks client frames, joins fragments
// into one message and, when permessage-deflate was negotiated (RFC 7692,
// with or without context takeover), decompresses them. Control frames
// (close, ping, pong) are messages of their own, even between the fragments
// of a data message. A malformed stream (a reserved opcode, a fragmented or
// oversized control frame, a continuation without a start) is an error and
// the Reader stops.
package wsframe
