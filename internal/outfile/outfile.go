// Package outfile keeps amp's outputs from destroying anything: it checks a
// command's output paths before the command starts (never one of its inputs,
// also through a symbolic or hard link; never an existing recording; every
// directory created or proven writable) and writes each output through a
// temporary file in the same directory, renamed into place only once it is
// complete.
package outfile

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// recordingMagic is the first bytes of an amp recording (capture.Magic; not
// imported, so that capture may use this package).
const recordingMagic = "\x89AMP\r\n\x1a\n"

// Kind says what an output is, which decides what it may replace.
type Kind int

const (
	// Report is a rendered result (JSON, CSV, HTML): it replaces an
	// existing file of its kind, but never a recording.
	Report Kind = iota
	// Recording is an amp recording: it replaces an existing file only
	// when forced, and never a directory.
	Recording
)

// Output is one file a command will write.
type Output struct {
	// Flag names the output in messages, e.g. "--json" or "-o".
	Flag string
	// Path is where it goes; "" means the output was not asked for.
	Path string
	// Kind decides what it may replace.
	Kind Kind
}

// Plan is what a command reads and writes.
type Plan struct {
	// Inputs are the files the command reads. Names that are not files
	// (URLs, "-") are ignored.
	Inputs []string
	// Outputs are the files it writes.
	Outputs []Output
	// Force lets a Recording output replace an existing file (not an
	// input).
	Force bool
}

// Check refuses an output that is an input (the same file, also by a link),
// an output given twice, a Report that would replace a recording, a
// Recording that would replace a file without Force, and an output whose
// directory cannot be created or written. It creates missing directories.
// The error is one line naming the flag and the file.
func (p Plan) Check() error {
	type input struct {
		path string
		st   fs.FileInfo
	}
	var ins []input
	for _, in := range p.Inputs {
		if in == "" || in == "-" || strings.Contains(in, "://") {
			continue
		}
		if st, err := os.Stat(in); err == nil {
			ins = append(ins, input{in, st})
		}
	}
	type seen struct {
		flag, path string
		st         fs.FileInfo
	}
	var outs []seen
	dirs := map[string]bool{}
	for _, o := range p.Outputs {
		if o.Path == "" {
			continue
		}
		abs, err := filepath.Abs(o.Path)
		if err != nil {
			return fmt.Errorf("%s %s: %v", o.Flag, o.Path, err)
		}
		st, err := os.Stat(o.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) { // ENOTDIR: Writable names the file in the way
			return fmt.Errorf("%s %s: %v", o.Flag, o.Path, unwrapPath(err))
		}
		for _, s := range outs {
			if s.path == abs || (st != nil && s.st != nil && os.SameFile(st, s.st)) {
				return fmt.Errorf("%s %s is also the %s output: give each output its own file", o.Flag, o.Path, s.flag)
			}
		}
		outs = append(outs, seen{o.Flag, abs, st})
		if st != nil {
			if st.IsDir() {
				return fmt.Errorf("%s %s is a directory: want a file name", o.Flag, o.Path)
			}
			for _, in := range ins {
				if os.SameFile(st, in.st) {
					if filepath.Clean(in.path) == filepath.Clean(o.Path) {
						return fmt.Errorf("%s %s is also an input: it would be replaced; nothing was changed", o.Flag, o.Path)
					}
					return fmt.Errorf("%s %s is the input %s (a link to it): it would be replaced; nothing was changed", o.Flag, o.Path, in.path)
				}
			}
			switch {
			case o.Kind == Report && isRecording(o.Path):
				return fmt.Errorf("%s %s is an amp recording: it would be replaced by a report; nothing was changed (choose another file)", o.Flag, o.Path)
			case o.Kind == Recording && !p.Force:
				return fmt.Errorf("%s %s already exists; nothing was changed (use --force to replace it, or another file)", o.Flag, o.Path)
			}
		}
		dir := filepath.Dir(abs)
		if dirs[dir] {
			continue
		}
		if err := Writable(dir); err != nil {
			return fmt.Errorf("%s %s: %v", o.Flag, o.Path, err)
		}
		dirs[dir] = true
	}
	return nil
}

// isRecording reports whether the file at path starts like an amp recording.
func isRecording(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(recordingMagic))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == recordingMagic
}

// Writable creates dir if it is missing and proves that a file can be
// created in it (by creating and removing one).
func Writable(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the directory: %v", unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".amp-write-test-*")
	if err != nil {
		return fmt.Errorf("cannot write in %s: %v", dir, unwrapPath(err))
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// unwrapPath drops the operation and path of a *fs.PathError, which messages
// that name the file already give.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// File is an output being written: a temporary file next to its final path,
// moved there by Commit. Until then the final path is untouched.
type File struct {
	*os.File
	path    string
	replace bool
	perm    fs.FileMode
	done    bool
}

// Create starts writing the output path. With replace, Commit replaces a
// file that exists by then; without, Commit fails if one does. perm is the
// final file's mode (0600 for recordings, which hold cookies and passwords).
func Create(path string, replace bool, perm fs.FileMode) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, path: path, replace: replace, perm: perm}, nil
}

// Path returns the final path.
func (f *File) Path() string { return f.path }

// Commit syncs and closes the temporary file and moves it to the final path.
// On error the temporary file is removed and the final path left as it was.
func (f *File) Commit() error {
	if f.done {
		return errors.New("outfile: commit of a finished file")
	}
	f.done = true
	tmp := f.Name()
	err := f.Sync()
	if cerr := f.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, f.perm)
	}
	if err == nil {
		err = Place(tmp, f.path, f.replace)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// Place moves the complete file tmp (in the same directory) to path. With
// replace it replaces a file there; without, it fails if path exists, also
// when the file appeared after the checks, with an error matching
// fs.ErrExist. On error tmp is left where it was.
func Place(tmp, path string, replace bool) error {
	if replace {
		return os.Rename(tmp, path)
	}
	err := os.Link(tmp, path)
	switch {
	case err == nil:
		// A link cannot replace a file that appeared meanwhile.
		return os.Remove(tmp)
	case errors.Is(err, fs.ErrExist):
		return &existsError{path}
	}
	if _, serr := os.Lstat(path); errors.Is(serr, fs.ErrNotExist) {
		return os.Rename(tmp, path) // a file system without hard links
	}
	return err
}

// existsError reports an output that exists, in the words of Plan.Check.
type existsError struct{ path string }

func (e *existsError) Error() string {
	return e.path + " already exists; nothing was changed (use --force to replace it, or another file)"
}

// Is makes errors.Is(err, fs.ErrExist) true.
func (e *existsError) Is(target error) bool { return target == fs.ErrExist }

// Abort closes and removes the temporary file, leaving the final path as it
// was. It is a no-op after Commit or Abort.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	_ = f.Close()
	_ = os.Remove(f.Name())
}

// Write writes path atomically: write fills a temporary file, which then
// replaces path. On error path is unchanged and no temporary file is left.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	f, err := Create(path, true, perm)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// Duplicate reports two of paths that are the same file (also by a link) or
// hold the same bytes, and whether there are any. Paths that cannot be read
// are left for the caller to report.
func Duplicate(paths []string) (a, b string, found bool) {
	type file struct {
		path string
		st   fs.FileInfo
		sum  [sha256.Size]byte
	}
	var files []file
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		f := file{path: p, st: st}
		if data, err := os.ReadFile(p); err == nil {
			f.sum = sha256.Sum256(data)
		}
		for _, g := range files {
			if os.SameFile(st, g.st) || (st.Size() == g.st.Size() && f.sum == g.sum) {
				return g.path, p, true
			}
		}
		files = append(files, f)
	}
	return "", "", false
}
