package main

import (
	"bufio"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// readmeCommands returns the amp command lines in README.md's fenced code
// blocks, as argument lists without the program name.
func readmeCommands(t *testing.T) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cmds [][]string
	in := false
	var cont string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			continue
		}
		line = cont + strings.TrimSpace(line)
		cont = ""
		if strings.HasSuffix(line, "\\") {
			cont = strings.TrimSuffix(line, "\\") + " "
			continue
		}
		words := shellWords(line)
		for i, w := range words {
			if w == "#" || w == "|" || w == "&" || w == "&&" || w == ";" || w == ">" || strings.HasPrefix(w, "2>") {
				words = words[:i]
				break
			}
		}
		switch {
		case len(words) >= 2 && (words[0] == "amp" || words[0] == "./amp"):
			cmds = append(cmds, words[1:])
		case len(words) >= 3 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/amp":
			cmds = append(cmds, words[3:])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cmds
}

// shellWords splits a command line like a POSIX shell would for simple
// cases: white space separates words, single and double quotes group.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	inWord, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// TestReadmeCommands checks every amp command of the README against the
// command tree: the command exists and every flag it uses is defined and
// takes the value given. The commands' behaviour is tested by the tests of
// each command; this keeps the README from naming what does not exist.
func TestReadmeCommands(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("found only %d amp commands in README.md", len(cmds))
	}
	app := newApp(io.Discard, io.Discard)
	for _, args := range cmds {
		line := "amp " + strings.Join(args, " ")
		args = reorderArgs(app, append([]string{"amp"}, args...))[1:]
		flags, cmds := app.Flags, app.Commands
		var cmd *cli.Command
		for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			next := findCommand(cmds, args[0])
			if next == nil {
				break
			}
			cmd, flags, cmds, args = next, next.Flags, next.Subcommands, args[1:]
		}
		if cmd == nil && (len(args) == 0 || !strings.HasPrefix(args[0], "-")) {
			t.Errorf("README: %s: no such command", line)
			continue
		}
		fs := flag.NewFlagSet("readme", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
	apply:
		for _, f := range append(flags, cli.HelpFlag) {
			for _, name := range f.Names() {
				if fs.Lookup(name) != nil {
					continue apply // a command's -v shadows a global one
				}
			}
			if err := f.Apply(fs); err != nil {
				t.Fatal(err)
			}
		}
		if err := fs.Parse(args); err != nil {
			t.Errorf("README: %s: %v", line, err)
		}
	}
}

// TestReadmeSetup checks the two set-up commands at the top of the README.
func TestReadmeSetup(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	head := string(data)
	if i := strings.Index(head, "## Tour"); i > 0 {
		head = head[:i]
	}
	for _, want := range []string{"go run ./cmd/amp demo", "go test ./..."} {
		if !strings.Contains(head, want) {
			t.Errorf("the README's set-up section lacks %q", want)
		}
	}
}
