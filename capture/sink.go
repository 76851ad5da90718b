package capture

// Sink receives exchanges. Every source writes to one: the recording proxy
// (proxy.Recorder.Serve), the packet importer (packet.NewImporter), the HAR
// reader (har.Import) and the import pipeline (capture/ingest). A *Writer is
// a Sink that appends to a recording; a GroupingSink assigns session keys on
// the way to another Sink.
//
// A source calls Write with exchanges in the order it finishes them and does
// not touch an exchange after handing it over. An error stops the source,
// which returns it.
type Sink interface {
	// Write takes one exchange.
	Write(*Exchange) error
}

// SinkFunc adapts a function to a Sink.
type SinkFunc func(*Exchange) error

// Write calls f(e).
func (f SinkFunc) Write(e *Exchange) error { return f(e) }

// Flusher is a Sink that buffers exchanges and can hand them on, as
// Writer.Flush hands a recording's buffer to the operating system.
type Flusher interface {
	// Flush hands on what is buffered.
	Flush() error
}

// Flush flushes s when it is a Flusher and does nothing otherwise. Sources
// call it where a kill -9 should lose nothing already written: the proxy
// after every exchange, the importer after every file.
func Flush(s Sink) error {
	if f, ok := s.(Flusher); ok {
		return f.Flush()
	}
	return nil
}

// Interface checks.
var (
	_ Sink    = (*Writer)(nil)
	_ Flusher = (*Writer)(nil)
	_ Sink    = SinkFunc(nil)
	_ Flusher = (*GroupingSink)(nil)
)
