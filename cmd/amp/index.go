package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/urfave/cli/v2"
)

func indexCommand() *cli.Command {
	return &cli.Command{
		Name:      "index",
		Usage:     "check or build the session index of recordings (amp sessions, filter, merge, split and kube job read a session at a time by it)",
		ArgsUsage: "REC.amp...",
		UsageText: "amp index REC.amp [REC.amp...]\n\n" +
			"   amp index shop.amp          # check it; rebuild it beside a cut or older recording\n" +
			"   amp index week-*.amp",
		Description: "A recording written by this amp holds its index. One cut short (kill -9, a full disk)\n" +
			"or written by an older amp has none: amp index reads it once, with a progress line, and\n" +
			"saves the index beside it as REC.amp.idx (the recording itself is never changed).\n" +
			"Every record's checksum is checked; an index that disagrees with the records is rebuilt.",
		Action: runIndex,
	}
}

func runIndex(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("index: want one or more recording files (run 'amp index --help')")
	}
	failed := 0
	for _, path := range c.Args().Slice() {
		if msg := indexOne(c.App.Writer, c.App.ErrWriter, path); msg != "" {
			fmt.Fprintf(c.App.ErrWriter, "amp: index: %s\n", msg)
			failed++
		}
	}
	switch {
	case failed == 0:
		return nil
	case c.NArg() == 1:
		return &exitError{code: exitBadInput, err: errors.New("")} // the line is printed
	}
	return usageError("index: %d of %d recordings failed", failed, c.NArg())
}

// indexOne checks or builds the index of one recording and prints what it
// holds. It returns the line saying why it failed, or "".
func indexOne(stdout, stderr io.Writer, path string) string {
	pl := &progressLine{w: stderr, path: path, last: -1}
	f, err := capture.OpenWith(path, capture.OpenOptions{SkipDamaged: true, Verify: true, Progress: pl.update})
	pl.end()
	if f == nil {
		return readErrorText(path, err)
	}
	defer f.Close()
	info := f.Index()
	var where string
	switch info.Source {
	case capture.IndexInFile:
		where = "the index in the recording is intact"
	case capture.IndexSidecar:
		where = "the index in " + info.Saved + " is intact"
	default:
		where = fmt.Sprintf("index built (%s)", info.Rebuilt)
		if info.Saved != "" {
			where += ", saved to " + info.Saved
		}
	}
	fmt.Fprintf(stdout, "%s: %s, %s; %s\n", path, plural(len(f.Sessions()), "session"), plural(f.Exchanges(), "exchange"), where)
	if d := damageText(path, &capture.Recording{Damaged: f.Damaged()}); d != "" {
		fmt.Fprintf(stderr, "amp: warning: %s; indexed the %d intact records\n", d, f.Exchanges())
	}
	switch {
	case errors.Is(err, capture.ErrCorrupt):
		return readErrorText(path, err)
	case err != nil:
		fmt.Fprintf(stderr, "amp: warning: %s; indexed the %d whole records before it\n", readErrorText(path, err), f.Exchanges())
	}
	if info.SaveError != nil {
		return fmt.Sprintf("%s: cannot save the index: %v", path, info.SaveError)
	}
	if errors.Is(err, capture.ErrCorrupt) || replay.FileFacts(f) != nil {
		return ""
	}
	// What a replay needs to know across the sessions, so that it starts
	// at once.
	pl = &progressLine{w: stderr, path: path, last: -1, sessions: true}
	facts, err := replay.SurveyFile(context.Background(), f, func(done, total int) { pl.update(int64(done), int64(total)) })
	pl.end()
	if err != nil {
		return readErrorText(path, err)
	}
	if err := replay.SaveFacts(f, facts); err != nil {
		return fmt.Sprintf("%s: cannot save the replay's facts: %v", path, err)
	}
	fmt.Fprintf(stdout, "%s: the replay's facts (%s, %s) saved to %s\n", path, plural(len(facts.Endpoints), "endpoint"), plural(len(facts.Shapes), "session shape"), capture.SidecarPath(path))
	return ""
}

// progressLine shows a pass over a recording as one line on stderr,
// rewritten at each new percent.
type progressLine struct {
	w        io.Writer
	path     string
	last     int64
	sessions bool // counting sessions, not bytes
}

func (p *progressLine) update(done, total int64) {
	pct := int64(100)
	if total > 0 {
		pct = done * 100 / total
	}
	if pct == p.last {
		return
	}
	if p.last >= 0 {
		fmt.Fprint(p.w, "\r") // rewrite the line
	}
	p.last = pct
	if p.sessions {
		fmt.Fprintf(p.w, "amp: index: reading the %d sessions of %s for the replay's facts: %d%%", total, p.path, pct)
		return
	}
	fmt.Fprintf(p.w, "amp: index: reading %s (%s): %d%%", p.path, formatBytes(total), pct)
}

// end ends the line if one was shown.
func (p *progressLine) end() {
	if p.last >= 0 {
		fmt.Fprintln(p.w)
		p.last = -1
	}
}
