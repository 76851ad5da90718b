package main

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"unicode"

	"github.com/ampload/amp/internal/fielderr"
	"github.com/urfave/cli/v2"
)

// replayFlag returns the amp replay flag of a replay.Config field, so that
// the library's field errors reach the user in the words they typed: the
// field's name in kebab case (MaxThink: --max-think), but for a few.
func replayFlag(field string) string {
	switch field {
	case "Headers":
		return "--header"
	case "CheckMode":
		return "--checks"
	case "Checks":
		return "--check"
	case "DataFile":
		return "--data"
	case "Thresholds":
		return "--fail-if"
	case "Journeys":
		return "--mix"
	case "HTTP1":
		return "--http1"
	case "H2C":
		return "--h2c"
	}
	var b strings.Builder
	b.WriteString("--")
	for i, r := range field {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// describeReplay describes an error of package replay on one line, naming
// flags where it names Config fields.
func describeReplay(err error) string { return fielderr.Describe(err, replayFlag) }

// multiFlag is a repeatable string flag whose values may contain commas
// (regular expressions), unlike cli.StringSliceFlag. Give it no alias:
// urfave/cli copies a set alias to the other names through String, which
// would add the joined values as one more value.
type multiFlag struct{ values []string }

// Set adds a value.
func (m *multiFlag) Set(v string) error {
	m.values = append(m.values, v)
	return nil
}

// Get returns the flag itself (flag.Getter, for cli.Context.Value).
func (m *multiFlag) Get() any { return m }

// String lists the values.
func (m *multiFlag) String() string {
	if m == nil {
		return ""
	}
	return strings.Join(m.values, " ")
}

func multi(c *cli.Context, name string) []string {
	if m, ok := c.Generic(name).(*multiFlag); ok {
		return m.values
	}
	return nil
}

// optionalAddr is a flag that may be given alone ("--web", the default
// address) or with a value ("--web=127.0.0.1:9000").
type optionalAddr struct {
	addr, def string
}

// Set takes "true" (the flag alone) or an address.
func (o *optionalAddr) Set(v string) error {
	switch v {
	case "true":
		o.addr = o.def
	case "false", "":
		o.addr = ""
	default:
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want HOST:PORT, got %q", v)
		}
		o.addr = v
	}
	return nil
}

// String returns the address.
func (o *optionalAddr) String() string {
	if o == nil {
		return ""
	}
	return o.addr
}

// IsBoolFlag lets the flag stand alone.
func (o *optionalAddr) IsBoolFlag() bool { return true }

// flagOptions adds to opts every flag of the command that was given, by its
// name (a repeatable one's values joined by commas), but for skip: the
// settings a recording's header keeps. It returns opts.
func flagOptions(c *cli.Context, opts map[string]string, skip ...string) map[string]string {
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if slices.Contains(skip, name) || !c.IsSet(name) {
			continue
		}
		switch v := c.Value(name).(type) {
		case *multiFlag:
			opts[name] = strings.Join(v.values, ",")
		default:
			opts[name] = fmt.Sprint(v)
		}
	}
	return opts
}
