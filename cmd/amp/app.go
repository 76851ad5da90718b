package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Exit codes of amp.
const (
	exitOK        = 0
	exitBadInput  = 1  // bad usage or input: one clear line, no stack trace
	exitThreshold = 99 // a threshold failed (k6's code)
)

// exitError carries an exit code with its error; it satisfies cli.ExitCoder.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

var _ cli.ExitCoder = (*exitError)(nil)

// usageError reports bad usage: exit code 1 and one line.
func usageError(format string, args ...any) error {
	return &exitError{code: exitBadInput, err: fmt.Errorf(format, args...)}
}

// exitCode maps an error returned by the app to the process exit code:
// amp's own codes, and 1 for everything else (urfave/cli's "No help topic"
// would be 3), so that the README's table is complete.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ec *exitError
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return exitBadInput
}

// run builds the app, runs it on args (os.Args style) and returns the exit code.
// Errors are printed as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err != nil {
		msg := strings.TrimSpace(err.Error())
		if msg != "" {
			fmt.Fprintf(stderr, "amp: %s\n", firstLine(msg))
		}
	}
	return exitCode(err)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// newApp builds a fresh command tree. Build one per run: urfave/cli keeps parse
// state in the flag values.
func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "amp",
		Usage: "record real user traffic and replay it as load",
		Description: "amp records real user sessions (through a recording proxy, from packet captures or\n" +
			"HAR files) into .amp recordings, and replays them as many concurrent simulated users,\n" +
			"each with its own cookies, measuring failures and slowdowns against the recording.",
		UsageText: "amp COMMAND [flags] [args]\n\n" +
			"   amp demo                                                  # the whole job in one command\n" +
			"   amp record -o shop.amp --target http://localhost:5000     # record through a proxy\n" +
			"   amp import shop.pcap -o shop.amp                          # or from a capture or HAR\n" +
			"   amp sessions shop.amp -v --correlations                   # what was recorded\n" +
			"   amp replay shop.amp --host http://localhost:5000 --users 500 --rate 50 --duration 5m",
		Version:                version(),
		Writer:                 stdout,
		ErrWriter:              stderr,
		UseShortOptionHandling: false,
		Suggest:                true,
		ExitErrHandler:         func(*cli.Context, error) {}, // run prints and maps errors
		Commands: []*cli.Command{
			demoCommand(),
			recordCommand(),
			caCommand(),
			importCommand(),
			captureCommand(),
			sessionsCommand(),
			indexCommand(),
			filterCommand(),
			mergeCommand(),
			splitCommand(),
			replayCommand(),
			reportCommand(),
			kubeCommand(),
			demositeCommand(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				typo := c.Args().First()
				return usageError("unknown command %q%s (run 'amp --help' for the list)", typo, didYouMeanCommand(typo, c.App.Commands))
			}
			return cli.ShowAppHelp(c)
		},
	}
	app.OnUsageError = onUsageError
	addConfigFlags(app.Commands) // --config, --print-config, AMP_ variables (config.go)
	for _, cmd := range app.Commands {
		setUsageErrors(cmd)
	}
	return app
}

func setUsageErrors(cmd *cli.Command) {
	cmd.OnUsageError = onUsageError
	for _, sub := range cmd.Subcommands {
		setUsageErrors(sub)
	}
}

// onUsageError turns a flag parse error into one line naming the command, not a
// help dump.
func onUsageError(c *cli.Context, err error, _ bool) error {
	// Flags that may stand alone (--web) are bool flags to the flag package.
	msg := strings.Replace(err.Error(), "invalid boolean value", "invalid value", 1)
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name := commandPath(c)
		return usageError("%s: %s%s (run 'amp %s --help')", name, msg, didYouMeanFlag(err, c.Command.Flags), name)
	}
	return usageError("%s%s (run 'amp --help')", msg, didYouMeanFlag(err, c.App.Flags))
}

// commandPath is the command's name with its parents' ("kube job").
func commandPath(c *cli.Context) string {
	var names []string
	for _, l := range c.Lineage() {
		if l.Command != nil && l.Command.Name != "" && l.Command.Name != c.App.Name {
			names = append([]string{l.Command.Name}, names...)
		}
	}
	return strings.Join(slices.Compact(names), " ")
}

// version returns the module version and VCS revision from the build info.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v // a tagged release or a pseudo-version, which names the revision
	}
	v := "devel"
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" {
		v += " (" + rev[:min(12, len(rev))] + modified + ")"
	}
	return v
}

// reorderArgs moves each command's flags in front of its positional arguments,
// so that "amp replay rec.amp --users 10" parses like "amp replay --users 10
// rec.amp" (urfave/cli v2 stops at the first argument). "--" ends flags.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	return append(out, reorderFor(app.Flags, app.Commands, args[1:])...)
}

// reorderFor reorders args of the command with flags and subcommands cmds
// (see reorderArgs). On the way it lets a duration flag take a bare number as seconds
// ("--duration 5" is 5s), lets an optional-value flag take its value as the
// next argument when it looks like one ("--web 127.0.0.1:9000"), and drops
// a command's positional arguments when help is asked for ("amp report
// merge --help" shows the report help).
func reorderFor(flags []cli.Flag, cmds []*cli.Command, args []string) []string {
	var fl, pos []string
	help := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			name := strings.TrimLeft(a, "-")
			help = help || name == "help" || name == "h"
			if n, v, ok := strings.Cut(name, "="); ok {
				a = a[:len(a)-len(name)] + n + "=" + secondsValue(flags, n, v)
			}
			fl = append(fl, a)
			switch {
			case !strings.Contains(name, "=") && takesValue(flags, name) && i+1 < len(args):
				fl = append(fl, secondsValue(flags, name, args[i+1]))
				i++
			case !strings.Contains(name, "=") && i+1 < len(args) && optionalValue(flags, name, args[i+1]):
				fl[len(fl)-1] = a + "=" + args[i+1]
				i++
			}
			continue
		}
		if len(pos) == 0 {
			if cmd := findCommand(cmds, a); cmd != nil {
				rest := reorderFor(cmd.Flags, cmd.Subcommands, args[i+1:])
				return append(append(fl, a), rest...)
			}
		}
		pos = append(pos, a)
	}
	if help && len(pos) > 0 && pos[0] != "--" {
		pos = nil
	}
	return append(fl, pos...)
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// takesValue reports whether the named flag consumes the next argument. Unknown
// flags are left for the parser to report.
func takesValue(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, isBool := f.(*cli.BoolFlag); isBool {
				return false
			}
			if g, ok := f.(*cli.GenericFlag); ok {
				if b, ok := g.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
					return false // --web alone, or --web=ADDR
				}
			}
			return true
		}
	}
	return false
}
