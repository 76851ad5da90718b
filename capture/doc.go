// Package capture holds amp's recording model, the .amp file format and the
// session grouping that every source (recording proxy, packet capture, HAR)
// shares.
//
// # Model
//
// An Exchange is one HTTP request with its response and timings, as recorded:
// method, absolute URL, protocol, header fields in wire order (duplicates and
// case kept), bodies as sent on the wire (de-chunked, Content-Encoding kept) up
// to a cap, start time, time to first response byte, duration, the client's
// address, flags for truncated, incomplete or failed data, and the key of the
// Session (one real user) it belongs to. A Grouper assigns those keys.
//
// # Sources and sinks
//
// Every source hands its exchanges to a Sink (Write(*Exchange) error): the
// recording proxy, the packet importer, the HAR reader and the import
// pipeline of capture/ingest. A GroupingSink assigns session keys on the way;
// a Writer is the Sink that appends to a recording. Create (or Replace) opens
// the recording file every amp command writes: exclusive, mode 0600, written
// to NAME.partial and renamed to NAME by Close, so NAME only ever holds a
// complete recording while a crash leaves NAME.partial readable as a cut one.
//
// # The .amp format, version 2
//
// A recording is a byte stream:
//
//	file   = magic version header exchange* index end
//	magic  = 89 41 4D 50 0D 0A 1A 0A        ("\x89AMP\r\n\x1a\n")
//	version= uint32, little endian          (2; 1 has no index)
//	record = length crc payload
//	length = uint32, little endian          (bytes of payload, 1 .. MaxRecordSize)
//	crc    = uint32, little endian          (CRC-32C of the 4 length bytes and the payload)
//	payload= kind body
//	kind   = 'H' header | 'X' exchange | 'I' index | 'E' end
//
// The first record is the header (kind 'H'): a msgpack map with "source",
// "created" (Unix nanoseconds, UTC), "tool" and "options" (string map). Then
// come exchange records (kind 'X') in the order they completed, each a msgpack
// map from small integer field numbers to values; empty fields are left out:
//
//	1 session key      string   11 request header   array [name, value, ...]
//	2 client address   string   12 request body     bin
//	3 start            int (Unix ns, UTC)   13 request body size  int (when not len(body))
//	4 time to 1st byte int (ns)             14 response status    int
//	5 duration         int (ns)             15 response proto     string
//	6 flags            uint                 16 response header    array [name, value, ...]
//	7 error            string               17 response body      bin
//	8 method           string               18 response body size int (when not len(body))
//	9 URL (absolute)   string               19 response body hash bin (SHA-256, truncated bodies)
//	10 request proto   string               20 response trailer   array [name, value, ...]
//	32 WebSocket messages array of [offset ns, from server 0/1, opcode, data bin, size (when not len(data))]
//
// Field 32 is set on an exchange that upgraded to WebSocket (status 101): the
// messages of the conversation in both directions (Exchange.WS). Readers
// that predate it skip it, as they skip any field number they don't know.
//
// Then comes the session index (kind 'I', version 2): for every session, in
// the order GroupSessions gives, its key, a readable name, the start of its
// first exchange, its exchange count and the byte offsets of its exchange
// records' frames in session order, as varints (the layout is in index.go).
// The last record (kind 'E') is a msgpack map {"exchanges": count, "index":
// offset of the index record}. Open finds the end marker from the end of
// the file and reads the index there; a file without one (version 1, or cut
// short) is indexed by one pass and the index saved beside it
// (SidecarPath). Readers
// skip unknown field numbers and unknown record kinds, so a version-1 writer may
// add both; anything that older readers must not misread takes a new version,
// and readers refuse versions newer than theirs with a *VersionError.
//
// # Reading by session
//
// Open reads a recording's session index and gives its sessions one at a
// time (File.Sessions, File.Session, by offset, safe for concurrent use), so
// that memory follows the sessions read, not the file: a few bytes per
// exchange for the index. A file without an index, or whose index disagrees
// with its records, is indexed by one pass and the index saved beside it
// (SidecarPath); the sessions and exchanges are those ReadFile gives.
//
// # Damage
//
// Every record is framed and checksummed, so a file cut by a crash, kill -9 or
// a full disk reads back every whole record before the cut and then reports a
// *TruncatedError ("truncated after record N"); a flipped byte fails the
// checksum and is reported as a *CorruptError instead of being decoded. Both
// match ErrTruncated and ErrCorrupt with errors.Is. A file that does not start
// with the magic gives ErrNotRecording. A Writer only ever appends, and Flush
// after each exchange hands it to the operating system, so a recorder that is
// killed loses at most the exchanges still in flight.
//
// With ReadOptions.SkipDamaged (NewReaderOptions, ReadWith, ReadFileWith) a
// damaged record no longer ends the reading: the reader finds the next frame
// whose length fits and whose checksum matches, reads on from there and lists
// what it skipped (Reader.Damaged, Recording.Damaged), so one flipped byte
// costs one exchange. A cut is still a *TruncatedError. Recording.ID (a hash
// of the file header) identifies a recording across copies.
package capture
