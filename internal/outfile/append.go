package outfile

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
)

// Append adds what write produces to the end of path, creating it (with
// perm) if it is missing: for outputs that collect several runs, such as a
// CI job's summary. The text is rendered first and written at once, so a
// failed write adds nothing; a file that is an amp recording or not a
// regular file is refused, also when it became one after Plan.Check.
func Append(path string, perm fs.FileMode, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, perm)
	if err != nil {
		return unwrapPath(err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() && st.Mode()&fs.ModeNamedPipe == 0 {
		err = errors.New("not a regular file")
	}
	if err == nil && st.Mode().IsRegular() {
		head := make([]byte, len(recordingMagic))
		if n, _ := f.ReadAt(head, 0); n == len(head) && string(head) == recordingMagic {
			err = errors.New("is an amp recording: nothing was appended (choose another file)")
		}
	}
	if err == nil {
		_, err = f.Write(buf.Bytes())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
