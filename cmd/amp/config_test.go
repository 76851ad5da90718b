package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// writeConfig writes a configuration file named name into a new directory.
func writeConfig(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// printedConfig runs amp replay --print-config with args and returns its
// lines by key: "users" → "3 # command line"; a repeatable flag's entry is
// its source, its values are under key+"[]".
func printedConfig(t *testing.T, args ...string) map[string]string {
	t.Helper()
	r := runAmp(t, append([]string{"replay", "rec.amp", "--print-config"}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("amp replay --print-config %v: exit %d: %s", args, r.code, r.stderr)
	}
	out := map[string]string{}
	var list string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "  - "):
			out[list+"[]"] += strings.TrimPrefix(line, "  - ") + " "
		default:
			k, v, _ := strings.Cut(line, ":")
			list, out[k] = k, strings.TrimSpace(v)
		}
	}
	return out
}

// TestConfigPrecedence checks flag > environment > file > default for a
// scalar flag (--users) and a repeatable one (--fail-if), in YAML and TOML.
func TestConfigPrecedence(t *testing.T) {
	yamlFile := writeConfig(t, "amp.yaml", "users: 500\nfail-if: [\"p(95)<500\", \"rate<0.01\"]\n")
	tomlFile := writeConfig(t, "amp.toml", "users = 500\nfail-if = [\"p(95)<500\", \"rate<0.01\"]\n")
	tests := []struct {
		name      string
		file      string
		env       map[string]string
		args      []string
		users     string // "": not set (the default)
		failIf    string // the values, each followed by a space; "": not set
		failIfSrc string
	}{
		{name: "default"},
		{name: "yaml file", file: yamlFile, users: "500 # " + yamlFile, failIf: `"p(95)<500" "rate<0.01" `, failIfSrc: "# " + yamlFile},
		{name: "toml file", file: tomlFile, users: "500 # " + tomlFile, failIf: `"p(95)<500" "rate<0.01" `, failIfSrc: "# " + tomlFile},
		{name: "env", env: map[string]string{"AMP_USERS": "40", "AMP_FAIL_IF": "p(99)<800\n"}, users: "40 # AMP_USERS", failIf: `"p(99)<800" `, failIfSrc: "# AMP_FAIL_IF"},
		{name: "env over file", file: yamlFile, env: map[string]string{"AMP_USERS": "40", "AMP_FAIL_IF": "p(99)<800\nrate<0.1"},
			users: "40 # AMP_USERS", failIf: `"p(99)<800" "rate<0.1" `, failIfSrc: "# AMP_FAIL_IF"},
		{name: "flag over env and file", file: yamlFile, env: map[string]string{"AMP_USERS": "40", "AMP_FAIL_IF": "p(99)<800"},
			args: []string{"--users", "3", "--fail-if", "count>0"}, users: "3 # command line", failIf: `"count>0" `, failIfSrc: "# command line"},
		{name: "short flag over file", file: yamlFile, args: []string{"-u", "3"}, users: "3 # command line", failIf: `"p(95)<500" "rate<0.01" `, failIfSrc: "# " + yamlFile},
		{name: "config from the environment", env: map[string]string{"AMP_CONFIG": yamlFile}, users: "500 # " + yamlFile, failIf: `"p(95)<500" "rate<0.01" `, failIfSrc: "# " + yamlFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := tc.args
			if tc.file != "" {
				args = append(args, "--config", tc.file)
			}
			got := printedConfig(t, args...)
			if got["users"] != tc.users {
				t.Errorf("users: %q, want %q", got["users"], tc.users)
			}
			if got["fail-if[]"] != tc.failIf || got["fail-if"] != tc.failIfSrc {
				t.Errorf("fail-if: %q %q, want %q %q", got["fail-if"], got["fail-if[]"], tc.failIfSrc, tc.failIf)
			}
		})
	}
}

// TestConfigSections checks that the section of the command run wins over
// the top-level keys, and that kube job reads kube: job:.
func TestConfigSections(t *testing.T) {
	file := writeConfig(t, "amp.yaml", "users: 5\nduration: 30\nreplay:\n  users: 50\nreport:\n  html: r.html\nkube:\n  job:\n    shards: 4\n    users: 400\n")
	got := printedConfig(t, "--config", file)
	if got["users"] != "50 # "+file+" (replay:)" || got["duration"] != `"30s" # `+file {
		t.Errorf("replay: %q", got)
	}
	r := runAmp(t, "kube", "job", "rec.amp", "--config", file, "--print-config")
	for _, want := range []string{"shards: 4 # " + file + " (kube: job:)\n", "users: 400 # " + file + " (kube: job:)\n", `duration: "30s" # ` + file + "\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("kube job --print-config: exit %d, lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	// The values reach the pods as flags of their amp replay.
	rec, _, _ := writeTestRecording(t)
	t.Setenv("AMP_HOST", "http://127.0.0.1:1")
	t.Setenv("AMP_IMAGE", "registry.example/amp:test")
	r = runAmp(t, "kube", "job", rec, "--config", file)
	if r.code != 0 {
		t.Fatalf("kube job: exit %d: %s", r.code, r.stderr)
	}
	_, _, job := kubeObjects(t, r.stdout)
	args := strings.Join(job.Spec.Template.Spec.Containers[0].Args, " ")
	if *job.Spec.Completions != 4 || !strings.Contains(args, "--host http://127.0.0.1:1") || !strings.Contains(args, "--users 400") || !strings.Contains(args, "--duration 30s") {
		t.Errorf("kube job from the file: %d shards, pod args %q", *job.Spec.Completions, args)
	}
}

// TestConfigBadInput checks that a bad file or variable is one line naming
// it and the key, exit 1.
func TestConfigBadInput(t *testing.T) {
	tests := []struct {
		name, file, text string
		env              map[string]string
		want             string
	}{
		{name: "yaml syntax", file: "amp.yaml", text: "users: [1\n", want: "replay: --config FILE: yaml: line 1: did not find expected ',' or ']'"},
		{name: "toml syntax", file: "amp.toml", text: "users = \n", want: "replay: --config FILE: line 1: expected value"},
		{name: "duplicate key", file: "amp.yaml", text: "users: 1\nusers: 2\n", want: `replay: --config FILE: yaml: unmarshal errors: line 2: key "users" already set in map`},
		{name: "not a mapping", file: "amp.yaml", text: "- users\n", want: "replay: --config FILE: want a mapping of flag names to values"},
		{name: "extension", file: "amp.ini", text: "users=1\n", want: "replay: --config FILE: want a .yaml, .yml or .toml file"},
		{name: "unknown key", file: "amp.yaml", text: "user: 5\n", want: `replay: FILE: unknown key "user" (did you mean users?)`},
		{name: "key of another command", file: "amp.yaml", text: "shards: 5\n", want: `replay: FILE: unknown key "shards" for amp replay (did you mean it under kube: job:? --shards is a flag of amp kube job)`},
		{name: "unknown key in another section", file: "amp.toml", text: "[report]\nhtm = \"r.html\"\n", want: `replay: FILE (report:): unknown key "htm" (did you mean html?)`},
		{name: "unknown key in a subsection", file: "amp.yaml", text: "kube:\n  job:\n    imag: x\n", want: `replay: FILE (kube: job:): unknown key "imag" (did you mean image?)`},
		{name: "bad value", file: "amp.yaml", text: "users: lots\n", want: `replay: FILE: users: invalid value "lots": want a whole number`},
		{name: "bad duration", file: "amp.toml", text: "duration = \"soon\"\n", want: `replay: FILE: duration: invalid value "soon": want a duration such as 30s, 5m or 1h30m`},
		{name: "list for one value", file: "amp.yaml", text: "users: [1, 2]\n", want: `replay: FILE: users: want one value, got a list of 2`},
		{name: "mapping for a value", file: "amp.yaml", text: "host:\n  url: x\n", want: `replay: FILE: host: want a value, got a mapping`},
		{name: "no value", file: "amp.yaml", text: "host:\n", want: `replay: FILE: host: no value`},
		{name: "bad address", file: "amp.yaml", text: "web: localhost\n", want: `replay: FILE: web: invalid value "localhost": want HOST:PORT, got "localhost"`},
		{name: "bad boolean", file: "amp.yaml", text: "quiet: maybe\n", want: `replay: FILE: quiet: invalid value "maybe": want true or false`},
		{name: "config in the file", file: "amp.yaml", text: "config: other.yaml\n", want: `replay: FILE: unknown key "config"`},
		{name: "unknown variable", env: map[string]string{"AMP_USRS": "5"}, want: "replay: unknown variable AMP_USRS: no flag of amp is called --usrs (did you mean AMP_USERS?)"},
		{name: "typo of another command's variable", env: map[string]string{"AMP_IMAGEE": "x"}, want: "replay: unknown variable AMP_IMAGEE: no flag of amp is called --imagee (did you mean AMP_IMAGE?)"},
		{name: "bad variable", env: map[string]string{"AMP_USERS": "five"}, want: `replay: AMP_USERS: invalid value "five": want a whole number`},
		{name: "bad variable over a good file", file: "amp.yaml", text: "users: 5\n", env: map[string]string{"AMP_USERS": "5x"}, want: `replay: AMP_USERS: invalid value "5x"`},
		{name: "missing file", env: map[string]string{"AMP_CONFIG": "/nonexistent/amp.yaml"}, want: "replay: --config /nonexistent/amp.yaml: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := []string{"replay", "rec.amp", "--host", "http://127.0.0.1:1"}
			want := tc.want
			if tc.file != "" {
				path := writeConfig(t, tc.file, tc.text)
				args = append(args, "--config", path)
				want = strings.ReplaceAll(want, "FILE", path)
			}
			r := runAmp(t, args...)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) || r.stdout != "" {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit 1 and one line with %q", r.code, r.stderr, r.stdout, want)
			}
		})
	}
}

// TestConfigIsSet checks that values from the file and the environment
// count as given for the "has no effect here" checks, and that a boolean
// at its default does not.
func TestConfigIsSet(t *testing.T) {
	rec, _, _ := writeTestRecording(t)
	file := writeConfig(t, "amp.yaml", "host: http://127.0.0.1:1\nmultiple: 3\n")
	r := runAmp(t, "replay", rec, "--config", file)
	if r.code != 1 || !strings.Contains(r.stderr, "replay: --multiple has no effect here") || !strings.HasSuffix(r.stderr, " (--multiple from "+file+")\n") {
		t.Errorf("--multiple from the file: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("AMP_USERS", "-5")
	r = runAmp(t, "replay", rec, "--host", "http://127.0.0.1:1")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "--users") || !strings.HasSuffix(r.stderr, " (--users from AMP_USERS)\n") {
		t.Errorf("AMP_USERS=-5: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("AMP_USERS", "")
	t.Setenv("AMP_ABORT_ON_FAIL", "true")
	r = runAmp(t, "replay", rec, "--host", "http://127.0.0.1:1", "--dry-run")
	if r.code != 1 || !strings.Contains(r.stderr, "replay: --abort-on-fail has no effect here") {
		t.Errorf("AMP_ABORT_ON_FAIL: exit %d, %q", r.code, r.stderr)
	}
	t.Setenv("AMP_ABORT_ON_FAIL", "false")        // the default: as if not given
	t.Setenv("AMP_CHROMIUM", "/usr/bin/chromium") // not a flag's, nor close to one: left alone
	t.Setenv("AMP_SHARDS", "3")                   // amp kube job's: left alone by amp replay
	file = writeConfig(t, "amp.toml", "host = \"http://127.0.0.1:1\"\ndry-run = true\nquiet = false\nweb = false\n")
	r = runAmp(t, "replay", rec, "--config", file)
	if r.code != 0 || !strings.Contains(r.stdout, "http://127.0.0.1:1") {
		t.Errorf("--dry-run and --host from the file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := printedConfig(t, "--config", file); got["quiet"] != "" || got["web"] != "" || got["abort-on-fail"] != "" || got["dry-run"] != "true # "+file {
		t.Errorf("booleans at their default are listed as set: %q", got)
	}
}

// TestPrintConfigGolden checks the --print-config output against its
// golden file, and that it reads back as a --config file giving the same
// configuration.
func TestPrintConfigGolden(t *testing.T) {
	file := writeConfig(t, "amp.yaml", `# CI load test
host: https://staging.shop
users: 200
rate: 20.5
duration: 5m
think: none
map: ["cdn.shop=https://cdn.staging"]
header:
  - "X-Load-Test: amp"
  - 'X-Quote: say "hi"'
web: 127.0.0.1:9000
replay:
  iterations: 1000
report:
  html: report.html
`)
	t.Setenv("AMP_FAIL_IF", "p(95)<500\nrate<0.01")
	t.Setenv("AMP_QUIET", "1")
	r := runAmp(t, "replay", "shop.amp", "--config", file, "--print-config", "--json", "result.json", "-r", "30")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := strings.ReplaceAll(r.stdout, file, "amp.yaml")
	golden := filepath.Join("testdata", "print-config.golden")
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("--print-config:\n%s\nwant (%s):\n%s", got, golden, want)
	}
	// Read back, without the environment: the same values.
	t.Setenv("AMP_FAIL_IF", "") // empty: unset
	t.Setenv("AMP_QUIET", "")
	again := writeConfig(t, "again.yaml", r.stdout)
	r2 := runAmp(t, "replay", "shop.amp", "--config", again, "--print-config")
	if r2.code != 0 {
		t.Fatalf("reading the printed configuration back: exit %d: %s", r2.code, r2.stderr)
	}
	strip := func(s string) string {
		var b strings.Builder
		for _, line := range strings.Split(s, "\n") {
			if line, _, _ = strings.Cut(line, " # "); !strings.HasPrefix(line, "#") {
				b.WriteString(line + "\n")
			}
		}
		return b.String()
	}
	if strip(r2.stdout) != strip(r.stdout) {
		t.Errorf("read back:\n%s\nfirst:\n%s", r2.stdout, r.stdout)
	}
}

// TestReadmeConfigExamples reads the README's example configuration files
// (its yaml and toml blocks) with amp replay and amp kube job.
func TestReadmeConfigExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "### Configuration files and environment\n")
	if !ok {
		t.Fatal("README.md has no section \"Configuration files and environment\"")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	found := 0
	for _, ext := range []string{"yaml", "toml"} {
		for _, block := range strings.Split(section, "```"+ext+"\n")[1:] {
			block, _, _ = strings.Cut(block, "```")
			file := writeConfig(t, "amp."+ext, block)
			found++
			r := runAmp(t, "replay", "shop.amp", "--config", file, "--print-config")
			if r.code != 0 || !strings.Contains(r.stdout, "users: 200 # ") || !strings.Contains(r.stdout, `  - "rate<0.01"`) {
				t.Errorf("README %s example: exit %d: %s%s", ext, r.code, r.stderr, r.stdout)
			}
			if ext == "toml" {
				if r := runAmp(t, "kube", "job", "shop.amp", "--config", file, "--print-config"); r.code != 0 || !strings.Contains(r.stdout, "shards: 8 # ") {
					t.Errorf("README toml example, kube job: exit %d: %s%s", r.code, r.stderr, r.stdout)
				}
			}
		}
	}
	if found != 2 {
		t.Errorf("found %d example files in README.md, want 2", found)
	}
}

// TestConfigAnyFlag checks that the mechanism takes flags of every kind
// without knowing them (the flags other commands add): slices, numbers,
// durations, booleans and amp's own repeatable and optional-value flags.
func TestConfigAnyFlag(t *testing.T) {
	var got []string
	cmd := &cli.Command{
		Name: "edit",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "tag"},
			&cli.IntSliceFlag{Name: "port"},
			&cli.Int64Flag{Name: "max"},
			&cli.UintFlag{Name: "count"},
			&cli.DurationFlag{Name: "from"},
			&cli.BoolFlag{Name: "skip-static"},
			&cli.GenericFlag{Name: "exclude-path", Value: &multiFlag{}},
			&cli.GenericFlag{Name: "listen", Value: &optionalAddr{def: "127.0.0.1:1"}},
		},
		Action: func(c *cli.Context) error {
			got = []string{strings.Join(c.StringSlice("tag"), ","), fmt.Sprint(c.IntSlice("port")), fmt.Sprint(c.Int64("max")),
				fmt.Sprint(c.Uint("count")), c.Duration("from").String(), fmt.Sprint(c.Bool("skip-static")),
				strings.Join(multi(c, "exclude-path"), ","), c.Generic("listen").(*optionalAddr).addr}
			return nil
		},
	}
	app := &cli.App{Name: "amp", Writer: io.Discard, ErrWriter: io.Discard, Commands: []*cli.Command{cmd}, ExitErrHandler: func(*cli.Context, error) {}}
	addConfigFlags(app.Commands)
	file := writeConfig(t, "amp.toml", "tag = [\"a\", \"b\"]\nport = [80, 443]\nmax = 9000000000\ncount = 3\nfrom = 90\nskip-static = true\nexclude-path = [\"/a,b\", \"/c\"]\nlisten = true\n")
	t.Setenv("AMP_TAG", "x\ny")
	if err := app.Run([]string{"amp", "edit", "--config", file, "--count", "4"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"x,y", "[80 443]", "9000000000", "4", "1m30s", "true", "/a,b,/c", "127.0.0.1:1"}
	if !slices.Equal(got, want) {
		t.Errorf("values %q, want %q", got, want)
	}
	var out strings.Builder
	app.Writer = &out
	if err := app.Run([]string{"amp", "edit", "--config", file, "--print-config"}); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"tag: # AMP_TAG\n  - \"x\"\n  - \"y\"\n", "port: # " + file + "\n  - \"80\"\n  - \"443\"\n", "max: 9000000000 # ", `from: "1m30s" # `, `listen: "127.0.0.1:1" # `} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("--print-config lacks %q:\n%s", line, out.String())
		}
	}
}
