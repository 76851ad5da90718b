// Package har imports HTTP Archive (HAR 1.1 and 1.2) files, as exported by
// browsers' developer tools (Chrome, Firefox), proxies (Fiddler, mitmproxy)
// and WebPagetest, into amp exchanges.
//
// Import reads a file and writes its entries, as capture.Exchange values
// ordered by start, to a capture.Sink (a capture.GroupingSink in front of a
// capture.Writer in amp import). Read decodes a file (a UTF-8 byte order
// mark, numbers written as strings and odd httpVersion values are accepted);
// Log.Exchanges turns its entries into exchanges.
package har
