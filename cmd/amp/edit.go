package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/edit"
	"github.com/ampload/amp/internal/fielderr"
	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/replay"
	"github.com/urfave/cli/v2"
)

func filterCommand() *cli.Command {
	return &cli.Command{
		Name:      "filter",
		Usage:     "write a recording with only some of the sessions and requests of another",
		ArgsUsage: "IN.amp",
		UsageText: "amp filter IN.amp -o OUT.amp [flags]\n\n" +
			"   amp filter shop.amp -o s3.amp --session 3                    # only the 3rd session amp sessions lists\n" +
			"   amp filter shop.amp -o api.amp --skip-static --exclude-path '/analytics/*'\n" +
			"   amp filter shop.amp -o shop-only.amp --host shop.example --method GET --method POST\n" +
			"   amp filter shop.amp -o peak.amp --from 5m --to 15m            # offsets from the recording's start\n" +
			"   amp filter shop.amp -o first.amp --from 2026-12-01T10:00:00Z --max-sessions 100",
		Description: "--session and --max-sessions keep or drop whole sessions; the other filters drop requests,\n" +
			"and a session left with none is dropped. --session N picks the Nth session 'amp sessions'\n" +
			"lists (1 = the first), --session KEY a session by its key (the SESSION column), --session NAME\n" +
			"by its name (the NAME column) or a glob over names ('home→login*').\n" +
			"Paths are path.Match globs on the URL path without the query: '*' stays within one segment,\n" +
			"and a GLOB without '/' matches the last segment (--exclude-path '*.js').\n" +
			"Every kept request is written with all its data; the header of OUT.amp names the input and\n" +
			"the filters. The input is never changed; -o must be a new file. A cut input (a .partial\n" +
			"left by a crash) is read up to the cut, with a warning.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "recording to write (`FILE`, refused if it exists)"},
			&cli.GenericFlag{Name: "session", Value: &multiFlag{}, Usage: "keep this session: the `N`th that 'amp sessions' lists (1 = the first), or its key (repeatable)"},
			&cli.GenericFlag{Name: "include-path", Value: &multiFlag{}, Usage: "keep only requests whose URL path matches this `GLOB` (repeatable: any of them)"},
			&cli.GenericFlag{Name: "exclude-path", Value: &multiFlag{}, Usage: "drop requests whose URL path matches this `GLOB` (repeatable)"},
			&cli.GenericFlag{Name: "host", Value: &multiFlag{}, Usage: "keep only requests to this `HOST` or HOST:PORT (repeatable)"},
			&cli.GenericFlag{Name: "method", Value: &multiFlag{}, Usage: "keep only requests with this `METHOD` (repeatable)"},
			&cli.BoolFlag{Name: "skip-static", Usage: "drop images, fonts, CSS and JavaScript (the test of amp record --skip-static)"},
			&cli.StringFlag{Name: "from", Usage: "keep only requests that start at or after `TIME`: RFC 3339 or an offset from the recording's start (5m)"},
			&cli.StringFlag{Name: "to", Usage: "keep only requests that start before `TIME` (as --from)"},
			&cli.IntFlag{Name: "max-sessions", Usage: "keep at most `N` sessions, the first left by the other filters (0 = all)"},
		},
		Action: runFilter,
	}
}

func mergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "write one recording with every session of several",
		ArgsUsage: "A.amp B.amp...",
		UsageText: "amp merge A.amp B.amp... -o OUT.amp [--join]\n\n" +
			"   amp merge monday.amp tuesday.amp -o week.amp\n" +
			"   amp merge api.amp static.amp -o shop.amp --join     # put back the two halves of a filter\n" +
			"   amp merge parts/*.amp -o shop.amp --join            # put back a split --by host",
		Description: "Every request of every input is written with all its data. Sessions stay distinct: a session\n" +
			"key that an earlier input also holds gets the suffix ~N (N the input's position), and the\n" +
			"command says so. --join keeps a shared key as one session instead: the parts of one\n" +
			"recording (filtered by requests, or split by host) merge back into it.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "recording to write (`FILE`, refused if it exists)"},
			&cli.BoolFlag{Name: "join", Usage: "a session key in several inputs is one session (do not rename)"},
		},
		Action: runMerge,
	}
}

func splitCommand() *cli.Command {
	return &cli.Command{
		Name:      "split",
		Usage:     "write one recording per session or per host of a recording",
		ArgsUsage: "IN.amp",
		UsageText: "amp split IN.amp --by session|host -o DIR\n\n" +
			"   amp split shop.amp --by session -o sessions/   # sessions/session-01.amp, ...\n" +
			"   amp split shop.amp --by host -o hosts/         # hosts/shop.example_8080.amp, hosts/cdn.example.amp",
		Description: "DIR is created when missing; a file that exists in it is never replaced (nothing is written\n" +
			"then). By session, the files are numbered as 'amp sessions' numbers the sessions; by host,\n" +
			"each session keeps its key and the requests it sent to that host, and 'amp merge --join'\n" +
			"puts them back together.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "`DIR` to write the recordings to"},
			&cli.StringFlag{Name: "by", Value: "session", Usage: "one recording per `session` or per host"},
		},
		Action: runSplit,
	}
}

// editFlag is the flag of a Filter field.
func editFlag(field string) string {
	switch field {
	case "Sessions":
		return "--session"
	case "IncludePaths":
		return "--include-path"
	case "ExcludePaths":
		return "--exclude-path"
	case "Hosts":
		return "--host"
	case "Methods":
		return "--method"
	case "SkipStatic":
		return "--skip-static"
	case "MaxSessions":
		return "--max-sessions"
	case "From":
		return "--from"
	case "To":
		return "--to"
	case edit.RuleWindow:
		return "--from/--to"
	}
	return field
}

// openEdited opens an input of filter, merge or split: a cut recording is
// read up to its cut, with a warning.
func openEdited(cmd, path string, stderr io.Writer) (*capture.File, error) {
	f, err := capture.Open(path)
	if f == nil {
		return nil, usageError("%s: %s", cmd, readErrorText(path, err))
	}
	if errors.Is(err, capture.ErrCorrupt) {
		f.Close()
		return nil, usageError("%s: %s ('amp index %s' checks every record)", cmd, readErrorText(path, err), path)
	}
	if err != nil {
		fmt.Fprintf(stderr, "amp: warning: %s: %s; read the %s before it\n", cmd, readErrorText(path, err), plural(f.Exchanges(), "whole record"))
	}
	return f, nil
}

// editOptions are the flags given, for the output's header.
func editOptions(c *cli.Context) map[string]string {
	return flagOptions(c, map[string]string{}, "output")
}

// checkRecordingOutput refuses an -o that is an input or exists.
func checkRecordingOutput(cmd, out string, inputs []string) error {
	if out == "" {
		return usageError("%s: -o FILE is required: where to write the recording (e.g. -o out.amp)", cmd)
	}
	p := outfile.Plan{Inputs: inputs, Outputs: []outfile.Output{{Flag: "-o", Path: out, Kind: outfile.Recording}}}
	if err := p.Check(); err != nil {
		return usageError("%s: %s", cmd, strings.Replace(err.Error(), " (use --force to replace it, or another file)", " (choose another file)", 1))
	}
	return nil
}

// editFailed aborts the output and says why the command failed.
func editFailed(cmd string, w *capture.Writer, err error) error {
	_ = w.Abort()
	if fe := fielderr.All(err); len(fe) > 0 {
		return usageError("%s: %s", cmd, fielderr.Describe(err, editFlag))
	}
	return usageError("%s: %v; nothing was written", cmd, err)
}

func runFilter(c *cli.Context) error {
	const cmd = "filter"
	if c.NArg() != 1 {
		return usageError("filter: want one recording file, got %d arguments (run 'amp filter --help')", c.NArg())
	}
	in, out := c.Args().First(), c.String("output")
	f := edit.Filter{Sessions: multi(c, "session"), Name: func(s *capture.Session) string { return replay.SessionName(s, nil) }, IncludePaths: multi(c, "include-path"), ExcludePaths: multi(c, "exclude-path"),
		Hosts: multi(c, "host"), Methods: multi(c, "method"), SkipStatic: c.Bool("skip-static"), MaxSessions: c.Int("max-sessions")}
	for _, b := range []struct {
		flag string
		dst  *edit.Bound
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.String(b.flag); c.IsSet(b.flag) {
			var err error
			if *b.dst, err = edit.ParseBound(v); err != nil {
				return usageError("filter: --%s %q: %v", b.flag, v, err)
			}
		}
	}
	if err := f.Validate(); err != nil {
		return usageError("filter: %s", fielderr.Describe(err, editFlag))
	}
	if err := checkRecordingOutput(cmd, out, []string{in}); err != nil {
		return err
	}
	file, err := openEdited(cmd, in, c.App.ErrWriter)
	if err != nil {
		return err
	}
	defer file.Close()
	inputs := []edit.Input{{Name: in, File: file}}
	w, err := capture.Create(out, edit.Header(cmd, "amp "+c.App.Version, editOptions(c), inputs...))
	if err != nil {
		return usageError("filter: -o %s: %v", out, err)
	}
	rep, err := edit.Apply(c.Context, file, f, w)
	if err != nil {
		return editFailed(cmd, w, err)
	}
	if err := w.Close(); err != nil {
		return usageError("filter: -o %s: %v", out, err)
	}
	printFilterReport(c.App.Writer, out, rep)
	return nil
}

// printFilterReport says what was kept and what each filter dropped.
func printFilterReport(w io.Writer, out string, rep *edit.Report) {
	fmt.Fprintf(w, "kept %d of %s, %d of %s in %s\n", rep.Sessions, plural(rep.SessionsIn, "session"), rep.Exchanges, plural(rep.ExchangesIn, "request"), out)
	for _, d := range rep.Dropped {
		switch {
		case d.Rule == edit.RuleEmpty:
			fmt.Fprintf(w, "  dropped %s left with no requests\n", plural(d.Sessions, "session"))
		case d.Sessions > 0:
			fmt.Fprintf(w, "  %s dropped %s (%s)\n", editFlag(d.Rule), plural(d.Sessions, "session"), plural(d.Exchanges, "request"))
		default:
			fmt.Fprintf(w, "  %s dropped %s\n", editFlag(d.Rule), plural(d.Exchanges, "request"))
		}
	}
}

func runMerge(c *cli.Context) error {
	const cmd = "merge"
	if c.NArg() < 2 {
		return usageError("merge: want two or more recording files, got %d (run 'amp merge --help')", c.NArg())
	}
	paths, out := c.Args().Slice(), c.String("output")
	if err := checkRecordingOutput(cmd, out, paths); err != nil {
		return err
	}
	var inputs []edit.Input
	for _, p := range paths {
		f, err := openEdited(cmd, p, c.App.ErrWriter)
		if err != nil {
			return err
		}
		defer f.Close()
		inputs = append(inputs, edit.Input{Name: p, File: f})
	}
	w, err := capture.Create(out, edit.Header(cmd, "amp "+c.App.Version, editOptions(c), inputs...))
	if err != nil {
		return usageError("merge: -o %s: %v", out, err)
	}
	rep, err := edit.Merge(c.Context, inputs, edit.MergeOptions{Join: c.Bool("join")}, w)
	if err != nil {
		return editFailed(cmd, w, err)
	}
	if err := w.Close(); err != nil {
		return usageError("merge: -o %s: %v", out, err)
	}
	fmt.Fprintf(c.App.Writer, "merged %d recordings: %s, %s in %s\n", len(inputs), plural(rep.Sessions, "session"), plural(rep.Exchanges, "request"), out)
	for _, r := range rep.Renamed {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range r.Keys {
				if !yield(k) {
					return
				}
			}
		})
		fmt.Fprintf(c.App.Writer, "  %s: %s also in an earlier input, renamed (%s → %s", r.Input, plural(len(keys), "session key"), keys[0], r.Keys[keys[0]])
		if len(keys) > 1 {
			fmt.Fprint(c.App.Writer, ", ...")
		}
		fmt.Fprintln(c.App.Writer, "; --join keeps them as one session)")
	}
	return nil
}

func runSplit(c *cli.Context) error {
	const cmd = "split"
	if c.NArg() != 1 {
		return usageError("split: want one recording file, got %d arguments (run 'amp split --help')", c.NArg())
	}
	in, dir := c.Args().First(), c.String("output")
	by, err := edit.ParseBy(c.String("by"))
	if err != nil {
		return usageError("split: --by %q: %v", c.String("by"), err)
	}
	if dir == "" {
		return usageError("split: -o DIR is required: the directory to write the recordings to (e.g. -o parts/)")
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageError("split: -o %s is not a directory: want a directory (created when missing)", dir)
	}
	file, err := openEdited(cmd, in, c.App.ErrWriter)
	if err != nil {
		return err
	}
	defer file.Close()
	header := edit.Header(cmd, "amp "+c.App.Version, editOptions(c), edit.Input{Name: in, File: file})
	parts, err := edit.Split(c.Context, file, by, dir, header)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = fmt.Errorf("%s already exists", pe.Path)
			}
			return usageError("split: -o %s: %v; nothing was written (choose another directory)", dir, err)
		}
		return usageError("split: %v", err)
	}
	fmt.Fprintf(c.App.Writer, "wrote %s to %s\n", plural(len(parts), "recording"), dir)
	tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
	for _, p := range parts {
		fmt.Fprintf(tw, "  %s\t%s, %s\t(%s %s)\n", filepath.Base(p.Path), plural(p.Sessions, "session"), plural(p.Exchanges, "request"), c.String("by"), p.Key)
	}
	return tw.Flush()
}
