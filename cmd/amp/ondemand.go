package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
	"github.com/urfave/cli/v2"
)

// onDemand reports whether amp replay reads its recording a session at a
// time (replay.OpenPlan), in memory that does not grow with the file: one
// local file, and none of the options that pick among all sessions before
// the run (--session, --mix, the web UI's Sessions tab). --data binds its
// columns in one pass over the sessions.
func onDemand(c *cli.Context, args []journeyArg) bool {
	return len(args) == 1 && !isURL(args[0].path) && len(multi(c, "session")) == 0 &&
		c.String("mix") == "" && !c.IsSet("web")
}

// openReplayFile opens a recording to replay on demand with the facts the
// replay needs about all its sessions. A file without an index (cut, or
// written by an older amp) is indexed first, and one whose index keeps no
// facts is surveyed, each in one pass with a progress line; both are saved
// beside it (REC.amp.idx) so that the next run starts at once.
func openReplayFile(c *cli.Context, arg string) (*capture.File, *replay.Facts, error) {
	path := shownName(arg)
	pass := newPassProgress(c.App.ErrWriter, path)
	f, err := capture.OpenWith(arg, capture.OpenOptions{SkipDamaged: true, Progress: pass.update})
	pass.end()
	if f == nil || errors.Is(err, capture.ErrCorrupt) {
		if f != nil {
			f.Close()
		}
		return nil, nil, describeReadError(path, err)
	}
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; replaying the %d whole records before it\n", readErrorText(path, err), f.Exchanges())
	}
	if f.Exchanges() == 0 {
		f.Close()
		return nil, nil, usageError("replay: %s holds no requests", path)
	}
	facts := replay.FileFacts(f)
	if facts == nil {
		if facts, err = surveyFile(c.Context, c, f, path); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	if d := damageText(path, &capture.Recording{Damaged: facts.Damaged}); d != "" {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s; replaying the %d intact records\n", d, facts.Tasks)
	}
	return f, facts, nil
}

// surveyFile finds the replay's facts of f in one pass, with a progress
// line once it takes more than a second, and saves them in f's index.
func surveyFile(ctx context.Context, c *cli.Context, f *capture.File, path string) (*replay.Facts, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	st := newStatusLine(c.App.ErrWriter, false)
	start := time.Now()
	facts, err := replay.SurveyFile(ctx, f, func(done, total int) {
		if time.Since(start) >= time.Second {
			st.show(fmt.Sprintf("amp: %s: reading its %d sessions once for the replay (saved in its index for the next run): %d%%", path, total, done*100/max(total, 1)))
		}
	})
	st.clear()
	if err != nil {
		return nil, describeReadError(path, err)
	}
	if err := replay.SaveFacts(f, facts); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s: could not save its index (%s); the next run reads it again\n", path, oneLine(err))
	}
	return facts, nil
}

// saveReplayFacts surveys a recording just written, so that its first
// replay starts at once (the facts go in its index, beside it). It warns
// rather than fails: the replay would survey it then.
func saveReplayFacts(c *cli.Context, path string) {
	f, err := capture.OpenWith(path, capture.OpenOptions{SkipDamaged: true})
	if err != nil {
		if f != nil {
			f.Close()
		}
		fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s: could not read it back for the replay's index: %s\n", path, oneLine(err))
		return
	}
	defer f.Close()
	if replay.FileFacts(f) == nil {
		if _, err := surveyFile(c.Context, c, f, path); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "amp: warning: %s\n", oneLine(err))
		}
	}
}
