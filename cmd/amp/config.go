package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"
)

// Configuration files and environment variables. Every command that runs
// something takes --config FILE (YAML or TOML, by extension) and --print-config,
// and reads an AMP_<FLAG> variable for each of its flags. Precedence: a flag
// on the command line > its AMP_ variable > the file > the default. The
// values are handed to the command's flags with cli.Context.Set, as if typed,
// so that the flags' own parsing and the "has no effect here" checks
// (c.IsSet) apply to them alike.
//
// A file's top-level keys are flags of the command being run; a key naming
// a command (replay:, report:, kube: job:) holds a section for that command,
// so that one file can serve several. The section of the command run wins
// over the top-level keys; the sections of other commands are checked but not
// applied. A repeatable flag takes a list (or one value); its AMP_ variable
// takes one value a line. Either replaces the values of a lower source
// rather than adding to them.

const (
	configFlagName      = "config"
	printConfigFlagName = "print-config"
	envPrefix           = "AMP_"
)

// addConfigFlags gives every command that runs something --config and
// --print-config, and makes it apply its configuration before its action.
func addConfigFlags(cmds []*cli.Command) {
	for _, cmd := range cmds {
		addConfigFlags(cmd.Subcommands)
		if cmd.Action == nil {
			continue
		}
		cmd.Flags = append(cmd.Flags,
			&cli.StringFlag{Name: configFlagName, Usage: "read flags from this YAML or TOML `FILE` (keys: flag names; a section per command, e.g. replay:); AMP_<FLAG> variables override it, flags override both"},
			&cli.BoolFlag{Name: printConfigFlagName, Usage: "print the configuration resolved from flags, AMP_ variables and --config, with the source of each value, and exit"},
		)
		action := cmd.Action
		cmd.Action = func(c *cli.Context) error {
			sources, printed, err := applyConfig(c)
			if err != nil || printed {
				return err
			}
			return withSources(action(c), sources)
		}
	}
}

// setting is a flag's values from one source.
type setting struct {
	values []string
	source string // "AMP_USERS", "amp.yaml", "amp.yaml (replay:)"
	key    string // the key in a file, as written
}

// applyConfig sets the flags of c's command not given on the command line
// from the environment and the --config file, and returns the source of
// each flag set. It prints the configuration and returns true for
// --print-config.
func applyConfig(c *cli.Context) (map[string]string, bool, error) {
	path := commandPath(c)
	flags := configurable(c.Command.Flags)
	env, err := envSettings(c, flags)
	if err != nil {
		return nil, false, err
	}
	file := c.String(configFlagName)
	if !c.IsSet(configFlagName) {
		file = os.Getenv(envName(configFlagName))
	}
	var fromFile map[string]setting
	if file != "" {
		if fromFile, err = fileSettings(c, file, flags); err != nil {
			return nil, false, err
		}
	}
	sources := map[string]string{}
	for _, f := range flags {
		name := f.Names()[0]
		if c.IsSet(name) {
			sources[name] = "command line"
			continue
		}
		s, ok := env[name]
		if !ok {
			if s, ok = fromFile[name]; !ok {
				continue
			}
		}
		set, err := setFlag(c, f, s)
		if err != nil {
			where := s.source
			if s.key != "" {
				where += ": " + s.key
			}
			return nil, false, usageError("%s: %s: %s", path, where, err)
		}
		if set {
			sources[name] = s.source
		}
	}
	if !c.Bool(printConfigFlagName) {
		return sources, false, nil
	}
	printConfig(c, path, flags, sources)
	return sources, true, nil
}

// sourcedError is a bad-input error whose first line ends with where the
// flags it names were set, when not on the command line.
type sourcedError struct {
	err error
	msg string
}

func (e *sourcedError) Error() string { return e.msg }
func (e *sourcedError) Unwrap() error { return e.err }

// withSources adds to a bad-input error naming a flag set by a file or a
// variable where it was set ("--users: from amp.yaml"), so that the user
// knows where to look.
func withSources(err error, sources map[string]string) error {
	if err == nil || exitCode(err) != exitBadInput {
		return err
	}
	msg := err.Error()
	first, rest, _ := strings.Cut(msg, "\n")
	var notes []string
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if src := sources[name]; src != "command line" && namesFlag(first, name) {
			notes = append(notes, fmt.Sprintf("--%s from %s", name, src))
		}
	}
	if len(notes) == 0 {
		return err
	}
	msg = first + " (" + strings.Join(notes, "; ") + ")"
	if rest != "" {
		msg += "\n" + rest
	}
	return &sourcedError{err: err, msg: msg}
}

// namesFlag reports whether msg names the flag --name (not --name-more).
func namesFlag(msg, name string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], "--"+name)
		if j < 0 {
			return false
		}
		end := i + j + 2 + len(name)
		if end == len(msg) || !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz0123456789-", rune(msg[end])) {
			return true
		}
		i = end
	}
}

// configurable returns the flags a file or variable may set: all but help,
// --config and --print-config.
func configurable(flags []cli.Flag) []cli.Flag {
	var out []cli.Flag
	for _, f := range flags {
		switch f.Names()[0] {
		case "help", configFlagName, printConfigFlagName:
			continue
		}
		out = append(out, f)
	}
	return out
}

// envName is the environment variable of a flag: AMP_ and the flag's name
// in upper case with _ for - (--fail-if: AMP_FAIL_IF).
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// envSettings reads the AMP_ variables of flags. A variable of another
// command's flag is left alone (the environment of a CI job serves all its
// steps), and so is one far from every flag's (other tools and amp's own
// tests have AMP_ variables); one a typo away from a flag's is refused.
func envSettings(c *cli.Context, flags []cli.Flag) (map[string]setting, error) {
	mine := map[string]cli.Flag{}
	for _, f := range flags {
		mine[envName(f.Names()[0])] = f
	}
	known := map[string]bool{envName(configFlagName): true}
	for _, f := range allFlags(c.App.Commands) {
		known[envName(f.Names()[0])] = true
	}
	names := make([]string, 0, len(known))
	for k := range known {
		names = append(names, k)
	}
	slices.Sort(names)
	out := map[string]setting{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, envPrefix) || v == "" {
			continue // an empty variable counts as unset
		}
		f, ok := mine[k]
		if !ok {
			if s := suggest(k, names); s != "" && !known[k] {
				return nil, usageError("%s: unknown variable %s: no flag of amp is called --%s (did you mean %s?)",
					commandPath(c), k, strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, envPrefix), "_", "-")), s)
			}
			continue
		}
		values := []string{v}
		if repeatable(f) {
			values = nil
			for _, line := range strings.Split(v, "\n") {
				if line = strings.TrimSuffix(line, "\r"); line != "" {
					values = append(values, line)
				}
			}
		}
		out[f.Names()[0]] = setting{values: values, source: k}
	}
	return out, nil
}

// allFlags lists the flags of cmds and their subcommands.
func allFlags(cmds []*cli.Command) []cli.Flag {
	var out []cli.Flag
	for _, cmd := range cmds {
		if cmd.Name == "help" {
			continue // urfave/cli's help command is its own subcommand
		}
		out = append(out, cmd.Flags...)
		out = append(out, allFlags(cmd.Subcommands)...)
	}
	return out
}

// repeatable reports whether f may be given several times.
func repeatable(f cli.Flag) bool {
	if g, ok := f.(*cli.GenericFlag); ok {
		_, ok := g.Value.(*multiFlag)
		return ok
	}
	s, ok := f.(interface{ IsSliceFlag() bool })
	return ok && s.IsSliceFlag()
}

// setFlag sets f from s, as the command line would, and reports whether it
// did: a boolean at its default ("quiet: false") leaves the flag unset, so
// that it counts as not given.
func setFlag(c *cli.Context, f cli.Flag, s setting) (bool, error) {
	name := f.Names()[0]
	if len(s.values) > 1 && !repeatable(f) {
		return false, fmt.Errorf("want one value, got a list of %d", len(s.values))
	}
	if len(s.values) == 1 && isDefaultBool(f, s.values[0]) {
		return false, nil
	}
	for _, v := range s.values {
		if err := c.Set(name, secondsValue(c.Command.Flags, name, v)); err != nil {
			return false, fmt.Errorf("invalid value %q: %s", v, wantValue(f, err))
		}
	}
	return len(s.values) > 0, nil
}

// wantValue explains a value f refused: what the flag's type takes, or the
// flag's own error (which the flag package words "parse error" for numbers).
func wantValue(f cli.Flag, err error) string {
	switch f.(type) {
	case *cli.DurationFlag:
		return "want a duration such as 30s, 5m or 1h30m (a bare number is seconds)"
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return "want a whole number"
	case *cli.Float64Flag:
		return "want a number"
	case *cli.BoolFlag:
		return "want true or false"
	}
	return err.Error()
}

// isDefaultBool reports whether v sets the boolean flag f to its default
// (or an optional-value flag such as --web off).
func isDefaultBool(f cli.Flag, v string) bool {
	switch f := f.(type) {
	case *cli.BoolFlag:
		b, err := strconv.ParseBool(v)
		return err == nil && b == f.Value
	case *cli.GenericFlag:
		if _, ok := f.Value.(*optionalAddr); ok {
			b, err := strconv.ParseBool(v)
			return err == nil && !b
		}
	}
	return false
}

// fileSettings reads the configuration file path for the command of c with
// flags: its top-level keys and the command's section (which wins). Every
// key of every section must be a flag of its command.
func fileSettings(c *cli.Context, path string, flags []cli.Flag) (map[string]setting, error) {
	top, err := readConfigFile(path)
	if err != nil {
		return nil, usageError("%s: --config %s: %s", commandPath(c), path, err)
	}
	cmdPath := strings.Fields(commandPath(c))
	general, own := map[string]setting{}, map[string]setting{}
	// walk checks the map m of a section (nil: the top level), whose command
	// has flags and subcommands cmds, and collects the values that apply.
	var walk func(m map[string]any, section []string, flags []cli.Flag, cmds []*cli.Command) error
	walk = func(m map[string]any, section []string, flags []cli.Flag, cmds []*cli.Command) error {
		where, into := path, general
		if section != nil {
			where, into = fmt.Sprintf("%s (%s:)", path, strings.Join(section, ": ")), nil
			if slices.Equal(section, cmdPath) {
				into = own
			}
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			v := m[k]
			if sub, ok := v.(map[string]any); ok {
				if next := findCommand(cmds, k); next != nil {
					if err := walk(sub, append(slices.Clone(section), next.Name), configurable(next.Flags), next.Subcommands); err != nil {
						return err
					}
					continue
				}
			}
			f := lookupFlag(flags, k)
			if f == nil {
				return usageError("%s: %s: unknown key %q%s", commandPath(c), where, k, keyHint(c, k, section, cmdPath, flags))
			}
			values, err := configValues(v)
			if err != nil {
				return usageError("%s: %s: %s: %s", commandPath(c), where, k, err)
			}
			if into != nil {
				into[f.Names()[0]] = setting{values: values, source: where, key: k}
			}
		}
		return nil
	}
	if err := walk(top, nil, flags, c.App.Commands); err != nil {
		return nil, err
	}
	for k, s := range own {
		general[k] = s
	}
	return general, nil
}

// lookupFlag returns the flag of flags with the long name (or alias) name.
func lookupFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name && len(n) > 1 {
				return f
			}
		}
	}
	return nil
}

// keyHint explains an unknown key: a flag of another command ("put it
// under replay:"), or the closest flag of this one.
func keyHint(c *cli.Context, key string, section, cmdPath []string, flags []cli.Flag) string {
	if section == nil {
		var owners []string
		var visit func(cmds []*cli.Command, path []string)
		visit = func(cmds []*cli.Command, path []string) {
			for _, cmd := range cmds {
				if cmd.Name == "help" {
					continue // its own subcommand
				}
				p := append(slices.Clone(path), cmd.Name)
				if lookupFlag(configurable(cmd.Flags), key) != nil && !slices.Equal(p, cmdPath) {
					owners = append(owners, strings.Join(p, " "))
				}
				visit(cmd.Subcommands, p)
			}
		}
		visit(c.App.Commands, nil)
		if len(owners) > 0 {
			if i := slices.Index(owners, "replay"); i > 0 {
				owners[0], owners[i] = owners[i], owners[0]
			}
			return fmt.Sprintf(" for amp %s (did you mean it under %s:? --%s is a flag of amp %s)",
				strings.Join(cmdPath, " "), strings.ReplaceAll(owners[0], " ", ": "), key, strings.Join(owners, ", amp "))
		}
	}
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()[0])
	}
	if s := suggest(key, names); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", s)
	}
	return ""
}

// readConfigFile parses a YAML (.yaml, .yml, .json) or TOML (.toml) file
// into a map.
func readConfigFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	var m map[string]any
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		js, err := yaml.YAMLToJSONStrict(data)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
			return nil, errors.New(strings.Join(strings.Fields(msg), " ")) // one line
		}
		d := json.NewDecoder(bytes.NewReader(js))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		if v == nil {
			return map[string]any{}, nil // an empty file
		}
		if m, _ = v.(map[string]any); m == nil {
			return nil, errors.New("want a mapping of flag names to values at the top")
		}
	case ".toml":
		if _, err := toml.Decode(string(data), &m); err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
			}
			return nil, err
		}
	default:
		return nil, errors.New("want a .yaml, .yml or .toml file")
	}
	return m, nil
}

// configValues turns a value of a file into flag values: a scalar is one,
// a list of scalars several.
func configValues(v any) ([]string, error) {
	if list, ok := v.([]any); ok {
		var out []string
		for _, e := range list {
			s, err := configScalar(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	if list, ok := v.([]map[string]any); ok { // TOML arrays of tables
		return nil, fmt.Errorf("want a value, got %d tables", len(list))
	}
	s, err := configScalar(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

func configScalar(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", errors.New("no value")
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case json.Number:
		return v.String(), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case map[string]any:
		return "", errors.New("want a value, got a mapping")
	case []any:
		return "", errors.New("want a value, got a list in a list")
	default:
		if s, ok := v.(fmt.Stringer); ok { // TOML local dates and times
			return s.String(), nil
		}
		return "", fmt.Errorf("want a value, got %T", v)
	}
}

// printConfig prints the flags of c that are set as a YAML file that
// --config reads back, each with its source as a comment.
func printConfig(c *cli.Context, path string, flags []cli.Flag, sources map[string]string) {
	w := c.App.Writer
	fmt.Fprintf(w, "# amp %s: the resolved configuration (flag > AMP_ variable > --config file > default);\n", path)
	fmt.Fprintf(w, "# flags at their default are not listed.\n")
	if c.Args().Present() {
		fmt.Fprintf(w, "# arguments: %s\n", strings.Join(c.Args().Slice(), " "))
	}
	for _, f := range flags {
		name := f.Names()[0]
		src, ok := sources[name]
		if !ok {
			continue
		}
		if repeatable(f) {
			fmt.Fprintf(w, "%s: # %s\n", name, src)
			for _, v := range flagValues(c, f) {
				fmt.Fprintf(w, "  - %s\n", yamlString(v))
			}
			continue
		}
		var v any
		if _, ok := f.(*cli.GenericFlag); ok {
			v = c.Generic(name) // not every Generic is a flag.Getter, which c.Value wants
		} else {
			v = c.Value(name)
		}
		fmt.Fprintf(w, "%s: %s # %s\n", name, yamlValue(f, v), src)
	}
}

// flagValues returns the values of the repeatable flag f.
func flagValues(c *cli.Context, f cli.Flag) []string {
	name := f.Names()[0]
	var out []string
	switch f.(type) {
	case *cli.StringSliceFlag:
		return c.StringSlice(name)
	case *cli.IntSliceFlag:
		for _, v := range c.IntSlice(name) {
			out = append(out, strconv.Itoa(v))
		}
	case *cli.Int64SliceFlag:
		for _, v := range c.Int64Slice(name) {
			out = append(out, strconv.FormatInt(v, 10))
		}
	case *cli.Uint64SliceFlag:
		for _, v := range c.Uint64Slice(name) {
			out = append(out, strconv.FormatUint(v, 10))
		}
	case *cli.UintSliceFlag:
		for _, v := range c.UintSlice(name) {
			out = append(out, strconv.FormatUint(uint64(v), 10))
		}
	case *cli.Float64SliceFlag:
		for _, v := range c.Float64Slice(name) {
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		}
	default:
		if m, ok := c.Generic(name).(*multiFlag); ok {
			return m.values
		}
	}
	return out
}

// yamlValue formats the value of flag f: numbers and booleans bare,
// everything else quoted.
func yamlValue(f cli.Flag, v any) string {
	switch f.(type) {
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag, *cli.Float64Flag, *cli.BoolFlag:
		return fmt.Sprint(v)
	}
	return yamlString(fmt.Sprint(v))
}

// yamlString quotes s as a YAML double-quoted scalar (JSON's escapes are
// YAML's).
func yamlString(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
