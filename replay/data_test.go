package replay_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/internal/fielderr"
	"github.com/ampload/amp/replay"
)

// writeDataFile writes a data file into a fresh directory and returns its path.
func writeDataFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, text string
		cols             []string
		rows             [][]string
	}{
		{
			name: "csv", file: "users.csv",
			text: "username,password\nalice,a1\nbob,b2\n",
			cols: []string{"username", "password"},
			rows: [][]string{{"alice", "a1"}, {"bob", "b2"}},
		},
		{
			// As spreadsheets save it: a BOM, CRLF, quotes, blanks in names.
			name: "spreadsheet csv", file: "users.csv",
			text: "\ufeff username , note\r\n\"carol\",\"says \"\"hi\"\", twice\"\r\n\r\ndave,\r\n",
			cols: []string{"username", "note"},
			rows: [][]string{{"carol", `says "hi", twice`}, {"dave", ""}},
		},
		{
			name: "semicolons sniffed", file: "users.txt",
			text: "email;pin\ne@x.example;1234\n",
			cols: []string{"email", "pin"},
			rows: [][]string{{"e@x.example", "1234"}},
		},
		{
			name: "tsv", file: "users.tsv",
			text: "user\tpass,word\nu1\tp, 1\n",
			cols: []string{"user", "pass,word"},
			rows: [][]string{{"u1", "p, 1"}},
		},
		{
			// Member order of the first line; later lines in any order;
			// numbers keep their text.
			name: "json lines", file: "users.jsonl",
			text: "{\"username\": \"alice\", \"id\": 7}\n\n{\"id\": 1.5e3, \"username\": \"bob\"}\r\n",
			cols: []string{"username", "id"},
			rows: [][]string{{"alice", "7"}, {"bob", "1.5e3"}},
		},
		{
			name: "json lines sniffed", file: "users.data",
			text: `{"q":"shoes"}` + "\n" + `{"q":"hats"}`,
			cols: []string{"q"},
			rows: [][]string{{"shoes"}, {"hats"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := writeDataFile(t, tc.file, tc.text)
			d, err := replay.LoadData(p)
			if err != nil {
				t.Fatal(err)
			}
			if d.Path != p || !reflect.DeepEqual(d.Columns, tc.cols) || !reflect.DeepEqual(d.Rows, tc.rows) {
				t.Errorf("got %q %q %q, want %q %q", d.Path, d.Columns, d.Rows, tc.cols, tc.rows)
			}
		})
	}
}

// TestLoadDataErrors checks that every bad file gets one line naming the
// file and the problem.
func TestLoadDataErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, text string
		want             string // in the error
	}{
		{name: "empty", file: "users.csv", text: "", want: "the file is empty"},
		{name: "blank", file: "users.csv", text: " \n\r\n", want: "the file is empty"},
		{name: "empty jsonl", file: "users.jsonl", text: "\n\n", want: "the file is empty"},
		{name: "no header", file: "users.csv", text: "alice@example.com,secret\nbob@example.com,pw\n", want: `line 1 has no header: "alice@example.com" (column 1) looks like a value`},
		{name: "numbers for a header", file: "users.csv", text: "1,2\n3,4\n", want: "line 1 has no header"},
		{name: "header only", file: "users.csv", text: "username,password\n", want: "the header (username,password) has no rows"},
		{name: "ragged row", file: "users.csv", text: "username,password\nalice,a\nbob\n", want: "line 3 has 1 fields, the header has 2"},
		{name: "long row", file: "users.csv", text: "username\nalice\nbob,x\n", want: "line 3 has 2 fields, the header has 1"},
		{name: "duplicate column", file: "users.csv", text: "user,User\na,b\n", want: `column "User" appears twice`},
		{name: "empty column name", file: "users.csv", text: "user,,pass\na,b,c\n", want: "column 2 of the header has no name"},
		{name: "bad quote", file: "users.csv", text: "user\n\"a\"b\n", want: "line 2:"},
		{name: "bad json line", file: "users.jsonl", text: "{\"u\":\"a\"}\n{\"u\":\"b\"\n", want: "line 2: the JSON object is not closed"},
		{name: "json syntax", file: "users.jsonl", text: "{\"u\":\"a\"}\n\n{\"u\" \"b\"}\n", want: "line 3: bad JSON"},
		{name: "json array", file: "users.json", text: "[{\"u\":\"a\"}]\n", want: "line 1: want a JSON object per line, got an array"},
		{name: "json nested", file: "users.jsonl", text: "{\"u\":{\"name\":\"a\"}}\n", want: `line 1: member "u" is an object; want a string or a number`},
		{name: "json null", file: "users.jsonl", text: "{\"u\":null}\n", want: `member "u" is null`},
		{name: "json bool", file: "users.jsonl", text: "{\"u\":true}\n", want: `member "u" is a boolean`},
		{name: "json two objects", file: "users.jsonl", text: "{\"u\":\"a\"} {\"u\":\"b\"}\n", want: "line 1: text after the object"},
		{name: "json missing member", file: "users.jsonl", text: "{\"u\":\"a\",\"p\":\"x\"}\n{\"u\":\"b\"}\n", want: `line 2: member "p" of the first line is missing`},
		{name: "json extra member", file: "users.jsonl", text: "{\"u\":\"a\"}\n{\"u\":\"b\",\"p\":1}\n", want: `line 2: member "p" is not in the first line (u)`},
		{name: "json duplicate member", file: "users.jsonl", text: "{\"u\":\"a\",\"U\":\"b\"}\n", want: `member "U" appears twice`},
		{name: "json empty name", file: "users.jsonl", text: "{\"\":\"a\"}\n", want: "member 1 has an empty name"},
		{name: "json empty object", file: "users.jsonl", text: "{}\n", want: "the object has no members"},
		{name: "not utf-8", file: "users.csv", text: "user\n\xff\xfe\n", want: "not UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := writeDataFile(t, tc.file, tc.text)
			d, err := replay.LoadData(p)
			checkDataErr(t, d, err, p, tc.want)
		})
	}
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(t.TempDir(), "nope.csv")
		d, err := replay.LoadData(p)
		checkDataErr(t, d, err, p, "no such file")
	})
	t.Run("a directory", func(t *testing.T) {
		t.Parallel()
		p := t.TempDir()
		d, err := replay.LoadData(p)
		checkDataErr(t, d, err, p, "is a directory")
	})
}

func checkDataErr(t *testing.T, d *replay.DataSet, err error, path, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; got %+v", d)
	}
	msg := fielderr.Describe(err, func(f string) string { return map[string]string{"DataFile": "--data"}[f] })
	if !strings.HasPrefix(msg, "--data "+path+": ") || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line starting with --data %s: and containing %q", msg, path, want)
	}
}

// FuzzParseData checks that no input panics the loader, that what it accepts
// is a proper table, and that what it rejects gets one line naming the file.
func FuzzParseData(f *testing.F) {
	for _, seed := range []struct{ name, text string }{
		{"users.csv", "username,password\nalice,a1\nbob,b2\n"},
		{"users.csv", "\ufeffa;b\r\n\"x\"\"y\";2\r\n"},
		{"users.tsv", "a\tb\n1\t2\n"},
		{"users.csv", "a,b\n1\n"},
		{"users.jsonl", "{\"u\":\"a\",\"n\":1}\n{\"n\":2,\"u\":\"b\"}\n"},
		{"users.jsonl", "{\"u\":{\"x\":1}}\n"},
		{"users.json", "[1,2]"},
		{"x", "{\"a\":\"\\u00e9\"}"},
		{"x", ""},
	} {
		f.Add(seed.name, []byte(seed.text))
	}
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		ext := filepath.Ext(name)
		if len(ext) > 8 {
			ext = ""
		}
		path := "fuzz" + ext
		d, err := replay.ParseData(path, b)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "DataFile ") || !strings.Contains(msg, "fuzz") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q is not one line naming the file", msg)
			}
			return
		}
		if len(d.Columns) == 0 || len(d.Rows) == 0 {
			t.Fatalf("accepted %d columns, %d rows", len(d.Columns), len(d.Rows))
		}
		for i, c := range d.Columns {
			if c == "" || d.Column(c) != i {
				t.Fatalf("column %d %q is empty or not unique", i, c)
			}
		}
		for i, r := range d.Rows {
			if len(r) != len(d.Columns) {
				t.Fatalf("row %d has %d values for %d columns", i, len(r), len(d.Columns))
			}
		}
	})
}

func TestParseDataMode(t *testing.T) {
	t.Parallel()
	for _, m := range []replay.DataMode{replay.DataNext, replay.DataRandom, replay.DataUnique, replay.DataLoop} {
		got, err := replay.ParseDataMode(strings.ToUpper(m.String()))
		if err != nil || got != m {
			t.Errorf("ParseDataMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if _, err := replay.ParseDataMode("shuffle"); err == nil || !strings.Contains(err.Error(), "want next, random, unique or loop") {
		t.Errorf("ParseDataMode(shuffle): %v", err)
	}
	cfg := replay.DefaultConfig()
	cfg.Host = "http://127.0.0.1:1"
	cfg.DataMode = 9
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "DataMode") {
		t.Errorf("Validate with DataMode 9: %v", err)
	}
}

// dataSet returns a DataSet of n rows "u0".."u(n-1)" in one column "user".
func dataSet(n int) *replay.DataSet {
	d := &replay.DataSet{Path: "users.csv", Columns: []string{"user"}}
	for i := range n {
		d.Rows = append(d.Rows, []string{fmt.Sprintf("u%d", i)})
	}
	return d
}

// takeRows returns the first column of the rows Row gives for users, and the
// first error.
func takeRows(f *replay.Feed, users ...int) ([]string, error) {
	var out []string
	for _, u := range users {
		row, err := f.Row(u)
		if err != nil {
			return out, err
		}
		out = append(out, row[0])
	}
	return out, nil
}

func TestFeed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		mode          replay.DataMode
		rows          int
		shard, shards int
		users         []int // the user of each session, in start order
		want          []string
		exhausted     bool // the last session finds no row
	}{
		{name: "next wraps", mode: replay.DataNext, rows: 3, users: []int{0, 1, 0, 2, 1}, want: []string{"u0", "u1", "u2", "u0", "u1"}},
		{name: "unique stops", mode: replay.DataUnique, rows: 3, users: []int{0, 1, 0, 2}, want: []string{"u0", "u1", "u2"}, exhausted: true},
		{name: "loop keeps a row per user", mode: replay.DataLoop, rows: 2, users: []int{0, 1, 2, 0, 1, 2}, want: []string{"u0", "u1", "u0", "u0", "u1", "u0"}},
		// Shard 1 of 3 takes rows 1, 4, 7.
		{name: "next on a shard", mode: replay.DataNext, rows: 8, shard: 1, shards: 3, users: []int{0, 0, 0, 0}, want: []string{"u1", "u4", "u7", "u1"}},
		{name: "unique on a shard", mode: replay.DataUnique, rows: 8, shard: 2, shards: 3, users: []int{0, 1, 2}, want: []string{"u2", "u5"}, exhausted: true},
		{name: "loop on a shard", mode: replay.DataLoop, rows: 4, shard: 1, shards: 2, users: []int{0, 1, 2}, want: []string{"u1", "u3", "u1"}},
		// Fewer rows than shards: next shares all rows, unique has none.
		{name: "next on a shard without rows", mode: replay.DataNext, rows: 2, shard: 3, shards: 4, users: []int{0, 0}, want: []string{"u0", "u1"}},
		{name: "unique on a shard without rows", mode: replay.DataUnique, rows: 2, shard: 3, shards: 4, users: []int{0}, exhausted: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := replay.NewFeed(dataSet(tc.rows), tc.mode, tc.shard, tc.shards, 1)
			got, err := takeRows(f, tc.users...)
			if !slices.Equal(got, tc.want) {
				t.Errorf("rows %q, want %q", got, tc.want)
			}
			switch {
			case tc.exhausted && !errors.Is(err, replay.ErrDataExhausted):
				t.Errorf("error %v, want ErrDataExhausted", err)
			case tc.exhausted && !strings.HasPrefix(err.Error(), "DataFile users.csv: all "):
				t.Errorf("error %q does not name the file", err)
			case !tc.exhausted && err != nil:
				t.Errorf("error %v", err)
			}
		})
	}
}

func TestFeedRandom(t *testing.T) {
	t.Parallel()
	users := make([]int, 400)
	a, err := takeRows(replay.NewFeed(dataSet(10), replay.DataRandom, 0, 1, 7), users...)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := takeRows(replay.NewFeed(dataSet(10), replay.DataRandom, 0, 1, 7), users...)
	c, _ := takeRows(replay.NewFeed(dataSet(10), replay.DataRandom, 0, 1, 8), users...)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different rows")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds gave the same rows")
	}
	count := map[string]int{}
	for _, r := range a {
		count[r]++
	}
	// 400 draws of 10 rows: each about 40 times; every row between 15 and 70
	// fails only with a broken generator.
	for i := range 10 {
		if n := count[fmt.Sprintf("u%d", i)]; n < 15 || n > 70 {
			t.Errorf("row u%d drawn %d times of 400", i, n)
		}
	}
	if slices.Equal(a[:10], []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}) {
		t.Error("random gave the file order")
	}
}

// TestFeedConcurrent has many users take unique rows at once; run it with
// -race. Every row must go to exactly one session.
func TestFeedConcurrent(t *testing.T) {
	t.Parallel()
	const rows, users, tries = 1000, 50, 30
	f := replay.NewFeed(dataSet(rows), replay.DataUnique, 0, 1, 1)
	got := make([][]string, users)
	var wg sync.WaitGroup
	for u := range users {
		wg.Go(func() {
			for range tries {
				row, err := f.Row(u)
				if err != nil {
					if !errors.Is(err, replay.ErrDataExhausted) {
						t.Error(err)
					}
					return
				}
				got[u] = append(got[u], row[0])
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, rs := range got {
		for _, r := range rs {
			if seen[r] {
				t.Fatalf("row %s given twice", r)
			}
			seen[r] = true
		}
	}
	if len(seen) != rows {
		t.Errorf("%d rows given, want all %d", len(seen), rows)
	}
}

// loginSession is a recorded visit that logs in through a form, searches,
// posts JSON, uploads a multipart form and sends an API key header.
func loginSession() *capture.Session {
	x := func(method, u, ct, body string, h ...capture.Header) *capture.Exchange {
		hs := capture.Headers{{Name: "Host", Value: "shop.example"}, {Name: "User-Agent", Value: "Firefox"}}
		if ct != "" {
			hs = append(hs, capture.Header{Name: "Content-Type", Value: ct})
		}
		hs = append(hs, h...)
		return &capture.Exchange{Request: capture.Request{Method: method, URL: u, Header: hs, Body: []byte(body)}}
	}
	mp := "--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy post\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nadmin\r\n" +
		"--XyZ\r\nContent-Disposition: form-data; name=\"Author\"\r\n\r\nadmin\r\n--XyZ--\r\n"
	return &capture.Session{ID: "1", Exchanges: []*capture.Exchange{
		x("GET", "http://shop.example/login", "", ""),
		x("POST", "http://shop.example/login", "application/x-www-form-urlencoded",
			"csrf_token=tok123&username=admin&password=s3cret+pw&remember="),
		x("GET", "http://shop.example/search?q=red+shoes&page=2#top", "", ""),
		x("POST", "http://shop.example/api/profile", "application/json; charset=utf-8",
			`{"user":{"name":"Admin User","email":"admin@shop.example"},"tags":[{"name":"vip"}],"age":42}`),
		x("POST", "http://shop.example/posts", "multipart/form-data; boundary=XyZ", mp),
		x("GET", "http://shop.example/api/stats", "", "", capture.Header{Name: "X-Api-Key", Value: "k-0001"}, capture.Header{Name: "Cookie", Value: "username=admin"}),
	}}
}

func TestBindSession(t *testing.T) {
	t.Parallel()
	d := &replay.DataSet{Path: "users.csv", Columns: []string{"USERNAME", "password", "q", "email", "user.name", "age", "author", "x-api-key"}, Rows: [][]string{make([]string, 8)}}
	got := replay.BindSession(d, loginSession())
	want := []replay.DataBinding{
		{Column: "USERNAME", Value: "admin", Name: "username", Where: replay.WhereForm},
		{Column: "password", Value: "s3cret pw", Name: "password", Where: replay.WhereForm},
		{Column: "q", Value: "red shoes", Name: "q", Where: replay.WhereQuery},
		{Column: "email", Value: "admin@shop.example", Name: "email", Where: replay.WhereJSON},
		// By dotted path; "name" alone would match the tag too.
		{Column: "user.name", Value: "Admin User", Name: "name", Where: replay.WhereJSON},
		{Column: "age", Value: "42", Name: "age", Where: replay.WhereJSON},
		// The field, not the file whose content happens to be "admin".
		{Column: "author", Value: "admin", Name: "Author", Where: replay.WhereMultipart},
		{Column: "x-api-key", Value: "k-0001", Name: "X-Api-Key", Where: replay.WhereHeader},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bindings\n got %+v\nwant %+v", got, want)
	}
	// An empty recorded value ("remember=") binds nothing; cookies are no place.
	d = &replay.DataSet{Path: "users.csv", Columns: []string{"remember", "name"}, Rows: [][]string{{"", ""}}}
	got = replay.BindSession(d, loginSession())
	want = []replay.DataBinding{
		// A JSON object's members in name order: "tags" before "user".
		{Column: "name", Value: "vip", Name: "name", Where: replay.WhereJSON},
		{Column: "name", Value: "Admin User", Name: "name", Where: replay.WhereJSON},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bindings\n got %+v\nwant %+v", got, want)
	}
}

func TestBindData(t *testing.T) {
	t.Parallel()
	static := &capture.Session{ID: "2", Exchanges: []*capture.Exchange{{Request: capture.Request{Method: "GET", URL: "http://shop.example/app.js"}}}}
	sessions := []*capture.Session{static, loginSession()}
	d := &replay.DataSet{Path: "users.csv", Columns: []string{"username", "password"}, Rows: [][]string{{"u", "p"}}}
	got, err := replay.BindData(d, sessions)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != 0 || len(got[1]) != 2 {
		t.Errorf("bindings per session %+v: want none for the static session, two for the login", got)
	}

	d.Columns = []string{"username", "usr", "pass"}
	_, err = replay.BindData(d, sessions)
	want := `DataFile users.csv: columns "usr", "pass" match no form field, JSON member, query parameter or header the recording sends ` +
		"(it sends age, Author, csrf_token, email, name, page, password, q, title, username, User-Agent, X-Api-Key)"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got %v\nwant %s", err, want)
	}
}

func TestPrepareData(t *testing.T) {
	t.Parallel()
	p := writeDataFile(t, "users.csv", "username,password\na,1\nb,2\nc,3\n")
	sessions := []*capture.Session{loginSession(), loginSession()}
	base := replay.DefaultConfig()
	base.Host = "http://127.0.0.1:1"
	base.DataFile = p
	tests := []struct {
		name string
		set  func(c *replay.Config)
		want string // in the error; "" means none
	}{
		{name: "next never runs out", set: func(c *replay.Config) { c.Iterations = 100 }},
		{name: "unique with enough rows", set: func(c *replay.Config) { c.DataMode, c.Users, c.Iterations = replay.DataUnique, 2, 3 }},
		{name: "unique too few for the iterations", set: func(c *replay.Config) { c.DataMode, c.Users, c.Iterations = replay.DataUnique, 2, 4 },
			want: "3 rows are too few for DataMode unique: Iterations 4 needs 4"},
		{name: "unique too few for the users", set: func(c *replay.Config) { c.DataMode, c.Users, c.Duration = replay.DataUnique, 5, time.Minute },
			want: "Users 5 needs 5"},
		{name: "unique too few for the stages", set: func(c *replay.Config) {
			c.DataMode, c.Stages = replay.DataUnique, []replay.Stage{{Duration: time.Second, Users: 4}, {Duration: time.Second, Users: 1}}
		}, want: "Stages reach 4 users needs 4"},
		{name: "unique on the timeline", set: func(c *replay.Config) { c.DataMode, c.Timeline, c.Multiple = replay.DataUnique, true, 1.5 }},
		{name: "unique too few for the timeline", set: func(c *replay.Config) { c.DataMode, c.Timeline, c.Multiple = replay.DataUnique, true, 2 },
			want: "the timeline starts 4 session copies needs 4"},
		{name: "unique on a shard", set: func(c *replay.Config) {
			c.DataMode, c.Iterations, c.Shard, c.Shards = replay.DataUnique, 5, 1, 2
		}, want: "1 rows are too few for DataMode unique: Iterations 5 needs 3 on shard 1 of 2"},
		{name: "a missing column", set: func(c *replay.Config) {
			c.Data = &replay.DataSet{Path: "other.csv", Columns: []string{"login"}, Rows: [][]string{{"x"}}}
		}, want: `DataFile other.csv: column "login" matches no form field`},
		{name: "a missing file", set: func(c *replay.Config) { c.DataFile = p + ".gone" }, want: "DataFile " + p + ".gone: no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := base
			tc.set(&cfg)
			d, bindings, err := replay.PrepareData(cfg, sessions)
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("error %v, want one line with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Rows) != 3 || len(bindings) != 2 || len(bindings[1]) != 2 {
				t.Errorf("got %d rows, bindings %+v", len(d.Rows), bindings)
			}
		})
	}
	if d, b, err := replay.PrepareData(replay.DefaultConfig(), sessions); d != nil || b != nil || err != nil {
		t.Errorf("without data: %v %v %v", d, b, err)
	}
}

// BenchmarkFeedRow is the per-session cost of a data row, from many users at
// once: one atomic add and no allocation.
func BenchmarkFeedRow(b *testing.B) {
	for _, mode := range []replay.DataMode{replay.DataNext, replay.DataRandom, replay.DataLoop} {
		b.Run(mode.String(), func(b *testing.B) {
			f := replay.NewFeed(dataSet(1000), mode, 0, 1, 1)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				u := 0
				for pb.Next() {
					if _, err := f.Row(u); err != nil {
						b.Fatal(err)
					}
					u++
				}
			})
		})
	}
}

func TestAppendRowSwaps(t *testing.T) {
	d := &replay.DataSet{Path: "users.csv", Columns: []string{"username", "password"}, Rows: [][]string{{"admin", "new-pw"}}}
	bindings := replay.BindSession(d, loginSession())
	dst := make([]replay.Swap, 0, 4)
	got := replay.AppendRowSwaps(dst, d, bindings, d.Rows[0])
	// The row keeps the recorded user name: only the password changes.
	if want := []replay.Swap{{Old: "s3cret pw", New: "new-pw"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("swaps %+v, want %+v", got, want)
	}
	if allocs := testing.AllocsPerRun(100, func() { replay.AppendRowSwaps(dst[:0], d, bindings, d.Rows[0]) }); allocs != 0 {
		t.Errorf("%v allocations with a reused slice", allocs)
	}
}
