package replay

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"mime"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/ampload/amp/capture"
)

// DataSet is a table of per-user values read from a --data file: a CSV file
// with a header row, or JSON lines (one object of strings and numbers per
// line). It is not modified after loading, so users share it without locks.
type DataSet struct {
	// Path is the file the data came from, as given.
	Path string
	// Columns are the column names in file order: the CSV header, or the
	// members of the first JSON line.
	Columns []string
	// Rows are the data rows, each with one value per column. JSON numbers
	// keep their text ("42", "1.5e3").
	Rows [][]string
}

// Column returns the index of the named column (case-insensitive), or -1.
func (d *DataSet) Column(name string) int {
	for i, c := range d.Columns {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// LoadData reads a --data file, CSV or JSON lines: files named *.jsonl,
// *.ndjson or *.json are JSON lines, *.csv and *.tsv are CSV, others are JSON
// lines when they start with "{". Errors are one line naming the file and the
// problem: a missing or empty file, a header that looks like data, an empty
// or duplicate column name, a row with a different number of fields than the
// header, a bad JSON line.
func LoadData(path string) (*DataSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, dataErr(path, "no such file")
		case errors.As(err, &pe):
			return nil, dataErr(path, "%v", pe.Err)
		}
		return nil, dataErr(path, "%v", err)
	}
	return ParseData(path, b)
}

// ParseData parses the contents of a --data file; path names it in errors
// and its extension chooses the format as in LoadData.
func ParseData(path string, b []byte) (*DataSet, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 BOM, as spreadsheets write
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, dataErr(path, "the file is empty: want a CSV header row and rows, or JSON lines")
	}
	if !utf8.Valid(b) {
		return nil, dataErr(path, "the file is not UTF-8 text")
	}
	var d *DataSet
	var err error
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case ext == ".jsonl" || ext == ".ndjson" || ext == ".json":
		d, err = parseJSONLines(b)
	case ext == ".csv":
		d, err = parseCSV(b, 0)
	case ext == ".tsv":
		d, err = parseCSV(b, '\t')
	case bytes.TrimSpace(b)[0] == '{':
		d, err = parseJSONLines(b)
	default:
		d, err = parseCSV(b, 0)
	}
	if err != nil {
		return nil, dataErr(path, "%v", err)
	}
	d.Path = path
	return d, nil
}

// dataErr is a one-line error about the data file path (quoted when it holds
// control characters, so the error stays one line).
func dataErr(path, format string, args ...any) error {
	if strings.ContainsFunc(path, unicode.IsControl) {
		path = strconv.Quote(path)
	}
	return &FieldError{Field: "DataFile", Value: path, Problem: fmt.Sprintf(format, args...)}
}

// parseCSV reads CSV with a header row. comma 0 sniffs the delimiter from the
// first line: a comma, else a tab or a semicolon when the line has one.
func parseCSV(b []byte, comma rune) (*DataSet, error) {
	if comma == 0 {
		first, _, _ := bytes.Cut(b, []byte("\n"))
		comma = ','
		if !bytes.ContainsRune(first, ',') {
			if bytes.ContainsRune(first, '\t') {
				comma = '\t'
			} else if bytes.ContainsRune(first, ';') {
				comma = ';'
			}
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = comma
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, csvErr(err)
	}
	d := &DataSet{}
	for i, h := range header {
		name := strings.TrimSpace(h)
		if err := checkColumnName(d.Columns, name, i); err != nil {
			return nil, err
		}
		d.Columns = append(d.Columns, name)
	}
	for i, name := range d.Columns {
		if looksLikeValue(name) {
			return nil, fmt.Errorf("line 1 has no header: %q (column %d) looks like a value, not a column name; "+
				"add a first line naming the columns after the recorded fields, e.g. username,password", name, i+1)
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		if len(rec) != len(d.Columns) {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("line %d has %d fields, the header has %d (%s)", line, len(rec), len(d.Columns), strings.Join(d.Columns, string(comma)))
		}
		d.Rows = append(d.Rows, rec)
	}
	if len(d.Rows) == 0 {
		return nil, fmt.Errorf("the header (%s) has no rows after it", strings.Join(d.Columns, string(comma)))
	}
	return d, nil
}

// csvErr words a CSV syntax error as "line N: problem".
func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: %v", pe.Line, pe.Err)
	}
	return err
}

// checkColumnName rejects an empty name or one already in cols (names
// match case-insensitively, like the recorded names they are bound to).
func checkColumnName(cols []string, name string, i int) error {
	if name == "" {
		return fmt.Errorf("column %d of the header has no name", i+1)
	}
	for _, c := range cols {
		if strings.EqualFold(c, name) {
			return fmt.Errorf("column %q appears twice in the header (names are matched case-insensitively)", name)
		}
	}
	return nil
}

// looksLikeValue reports a header field that cannot be the name of a form
// field, JSON member, parameter or header: it starts with a digit or holds an
// "@" (an e-mail address) or a space.
func looksLikeValue(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	return unicode.IsDigit(r) || strings.ContainsAny(name, "@ \t")
}

// parseJSONLines reads one JSON object of strings and numbers per line; blank
// lines are skipped. The first object's members are the columns; every line
// must have the same members.
func parseJSONLines(b []byte) (*DataSet, error) {
	var d *DataSet
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		names, values, err := parseJSONObject(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n+1, err)
		}
		if d == nil {
			d = &DataSet{Columns: names}
			d.Rows = append(d.Rows, values)
			continue
		}
		row := make([]string, len(d.Columns))
		found := 0
		for i, name := range names {
			c := d.Column(name)
			if c < 0 {
				return nil, fmt.Errorf("line %d: member %q is not in the first line (%s)", n+1, name, strings.Join(d.Columns, ", "))
			}
			row[c] = values[i]
			found++
		}
		if found != len(d.Columns) {
			for _, c := range d.Columns {
				if !containsFold(names, c) {
					return nil, fmt.Errorf("line %d: member %q of the first line is missing", n+1, c)
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// parseJSONObject parses one line holding a JSON object whose members are
// strings or numbers, keeping the members' order.
func parseJSONObject(line []byte) (names, values []string, err error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, nil, jsonErr(err)
	}
	if tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("want a JSON object per line, got %s", jsonKind(tok))
	}
	for dec.More() {
		tok, err = dec.Token()
		if err != nil {
			return nil, nil, jsonErr(err)
		}
		name := strings.TrimSpace(tok.(string)) // object keys are strings
		if name == "" {
			return nil, nil, fmt.Errorf("member %d has an empty name", len(names)+1)
		}
		if containsFold(names, name) {
			return nil, nil, fmt.Errorf("member %q appears twice (names are matched case-insensitively)", name)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, nil, jsonErr(err)
		}
		var v string
		switch x := tok.(type) {
		case string:
			v = x
		case json.Number:
			v = x.String()
		default:
			return nil, nil, fmt.Errorf("member %q is %s; want a string or a number", name, jsonKind(tok))
		}
		names = append(names, name)
		values = append(values, v)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, jsonErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("text after the object (want one object per line)")
	}
	if len(names) == 0 {
		return nil, nil, errors.New("the object has no members")
	}
	return names, values, nil
}

// jsonErr words a JSON syntax error without its offset noise.
func jsonErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON object is not closed")
	}
	return fmt.Errorf("bad JSON: %v", err)
}

// jsonKind names the kind of a JSON token for errors.
func jsonKind(tok json.Token) string {
	switch x := tok.(type) {
	case json.Delim:
		if x == '{' {
			return "an object"
		}
		return "an array"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case string:
		return "a string"
	}
	return "a number"
}

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// DataMode says which data row each replayed session takes (--data-mode),
// following Gatling's feeder strategies and k6's SharedArray idioms.
type DataMode int

// The data modes of --data-mode.
const (
	// DataNext (default): every new session, of any user, takes the next row
	// in file order; after the last row it starts over at the first
	// (Gatling's circular feeder, k6's data[iterationInTest % length]).
	DataNext DataMode = iota
	// DataRandom: every new session takes a row chosen at random, with
	// replacement (Gatling's random feeder).
	DataRandom
	// DataUnique: like DataNext without starting over: each row is used by
	// at most one session; when all rows are used no new session starts and
	// the run stops (Gatling's queue feeder, k6's unique data per iteration).
	DataUnique
	// DataLoop: each simulated user takes the next row when it starts and
	// keeps it for every session it loops through, so a user logs in as the
	// same account each iteration; rows start over when there are more users
	// than rows (k6's data[(__VU-1) % length]). On the timeline every session
	// copy is a user of its own, so it behaves like DataNext there.
	DataLoop
)

// ParseDataMode parses --data-mode: next, random, unique or loop.
func ParseDataMode(s string) (DataMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "next":
		return DataNext, nil
	case "random":
		return DataRandom, nil
	case "unique":
		return DataUnique, nil
	case "loop":
		return DataLoop, nil
	}
	return 0, &FieldError{Field: "DataMode", Value: strconv.Quote(s), Problem: "want next, random, unique or loop"}
}

// String returns the --data-mode word of m.
func (m DataMode) String() string {
	switch m {
	case DataNext:
		return "next"
	case DataRandom:
		return "random"
	case DataUnique:
		return "unique"
	case DataLoop:
		return "loop"
	}
	return "DataMode(" + strconv.Itoa(int(m)) + ")"
}

// ErrDataExhausted is wrapped by Feed.Row when DataUnique has used every row.
var ErrDataExhausted = errors.New("no rows left")

// Feed deals the rows of a DataSet out to sessions as its DataMode says. It
// is safe for concurrent use: Row is one atomic add, no lock. A sharded run
// (--shard I/N) gives shard I the rows I, I+N, I+2N, ... so shards never
// share a row in DataNext, DataUnique and DataLoop; DataRandom draws from all
// rows.
type Feed struct {
	data          *DataSet
	mode          DataMode
	shard, shards int
	count         int // rows of this shard
	seed          uint64
	served        atomic.Uint64
}

// NewFeed returns a Feed of d's rows for shard of shards (0 and 1: all rows).
// seed makes DataRandom's choices repeatable.
func NewFeed(d *DataSet, mode DataMode, shard, shards int, seed uint64) *Feed {
	f := &Feed{data: d, mode: mode, shard: 0, shards: 1, count: len(d.Rows), seed: seed}
	if n := shardRows(len(d.Rows), shard, shards); shards > 1 && (n > 0 || mode == DataUnique) {
		f.shard, f.shards, f.count = shard, shards, n
	}
	return f
}

// shardRows is how many of rows rows shard i of n takes (every n-th from i).
func shardRows(rows, i, n int) int {
	if n <= 1 {
		return rows
	}
	if rows <= i {
		return 0
	}
	return (rows - i + n - 1) / n
}

// Row returns the values the next session of user takes, one per column of
// the DataSet, in column order; user numbers the simulated users from 0 in
// start order (DataLoop uses it, the other modes ignore it). The slice is
// shared: do not modify it. With DataUnique, when every row is used, Row
// returns an error wrapping ErrDataExhausted that says so in one line.
func (f *Feed) Row(user int) ([]string, error) {
	if f.count == 0 {
		return nil, f.exhausted()
	}
	var k uint64
	switch f.mode {
	case DataRandom:
		// A counter-based generator: lock-free and repeatable for a seed.
		k = splitmix64(f.seed+f.served.Add(1)*0x9e3779b97f4a7c15) % uint64(len(f.data.Rows))
		return f.data.Rows[k], nil
	case DataLoop:
		k = uint64(max(0, user)) % uint64(f.count)
	case DataUnique:
		k = f.served.Add(1) - 1
		if k >= uint64(f.count) {
			return nil, f.exhausted()
		}
	default:
		k = (f.served.Add(1) - 1) % uint64(f.count)
	}
	return f.data.Rows[f.shard+int(k)*f.shards], nil
}

func (f *Feed) exhausted() error {
	return fmt.Errorf("%w: %w", dataErr(f.data.Path, "all %d rows are used ({DataMode} unique), so no new session starts", f.count), ErrDataExhausted)
}

// splitmix64 is the finaliser of SplitMix64, a fast well-mixed hash.
func splitmix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Where a data column's recorded value was sent (DataBinding.Where).
const (
	WhereForm      = "form"      // an application/x-www-form-urlencoded body field
	WhereMultipart = "multipart" // a multipart/form-data field (not a file)
	WhereJSON      = "json"      // a JSON body member (its name or dotted path)
	WhereQuery     = "query"     // a URL query parameter
	WhereHeader    = "header"    // a request header field
)

// DataBinding says that a data column replaces a recorded value: Value was
// sent under Name (a form field, JSON member, query parameter or header) in
// the session's requests. At replay each user's row value for Column takes
// Value's place where the session sends it.
type DataBinding struct {
	// Column is the data column.
	Column string
	// Value is the recorded value the column's values replace.
	Value string
	// Name is the recorded name it was sent under, as spelled there.
	Name string
	// Where is the kind of place: WhereForm, WhereMultipart, WhereJSON,
	// WhereQuery or WhereHeader.
	Where string
}

// dataField is one named value a request sends.
type dataField struct {
	where, name, path, value string // path: a JSON member's dotted path
}

// BindSession returns what each column of d replaces in s: for every column,
// each distinct recorded value sent under a name equal to the column's
// (case-insensitively) as a form field (urlencoded or multipart), JSON member
// (by name or dotted path such as user.name), query parameter or header.
// Empty recorded values are left out. The order is column order, then the
// order the requests sent the values in (a JSON object's members by name).
func BindSession(d *DataSet, s *capture.Session) []DataBinding {
	var out []DataBinding
	fields := sessionFields(s)
	for _, col := range d.Columns {
		for _, f := range fields {
			if f.value == "" || (!strings.EqualFold(f.name, col) && !strings.EqualFold(f.path, col)) {
				continue
			}
			b := DataBinding{Column: col, Value: f.value, Name: f.name, Where: f.where}
			if !containsBinding(out, b) {
				out = append(out, b)
			}
		}
	}
	return out
}

func containsBinding(bs []DataBinding, b DataBinding) bool {
	for _, x := range bs {
		if x == b {
			return true
		}
	}
	return false
}

// BindData binds d's columns in every session (index for index), and
// returns a one-line error when a column matches nothing in any session,
// naming the file, the column and names the recording does send.
func BindData(d *DataSet, sessions []*capture.Session) ([][]DataBinding, error) {
	return bindData(d, slices.Values(sessions))
}

// bindData is BindData over sessions given one at a time.
func bindData(d *DataSet, sessions iter.Seq[*capture.Session]) ([][]DataBinding, error) {
	var out [][]DataBinding
	used := make([]bool, len(d.Columns))
	for s := range sessions {
		bs := BindSession(d, s)
		out = append(out, bs)
		for _, b := range bs {
			used[d.Column(b.Column)] = true
		}
	}
	var missing []string
	for i, ok := range used {
		if !ok {
			missing = append(missing, strconv.Quote(d.Columns[i]))
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	what := "column " + missing[0] + " matches"
	if len(missing) > 1 {
		what = "columns " + strings.Join(missing, ", ") + " match"
	}
	return nil, dataErr(d.Path, "%s no form field, JSON member, query parameter or header the recording sends (it sends %s)",
		what, sentNames(sessions))
}

// sentNames lists the names the sessions send values under, for errors:
// fields, members and parameters first, then headers, at most 30.
func sentNames(sessions iter.Seq[*capture.Session]) string {
	seen := map[string]bool{}
	var names, headers []string
	for s := range sessions {
		for _, f := range sessionFields(s) {
			key := strings.ToLower(f.name)
			if f.value == "" || seen[key] {
				continue
			}
			seen[key] = true
			if f.where == WhereHeader {
				headers = append(headers, f.name)
			} else {
				names = append(names, f.name)
			}
		}
	}
	if len(names)+len(headers) == 0 {
		return "no named values"
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	sort.Slice(headers, func(i, j int) bool { return strings.ToLower(headers[i]) < strings.ToLower(headers[j]) })
	all := append(names, headers...)
	const most = 30
	if len(all) > most {
		return strings.Join(all[:most], ", ") + fmt.Sprintf(" and %d more", len(all)-most)
	}
	return strings.Join(all, ", ")
}

// sessionFields lists the named values the requests of s send, in order.
func sessionFields(s *capture.Session) []dataField {
	var out []dataField
	for _, e := range s.Exchanges {
		out = appendRequestFields(out, &e.Request)
	}
	return out
}

// appendRequestFields appends the named values of one request: query
// parameters, urlencoded, multipart (not files) and JSON body fields, and
// header fields other than Cookie, Host and the framing ones.
func appendRequestFields(out []dataField, r *capture.Request) []dataField {
	if _, query, ok := strings.Cut(r.URL, "?"); ok {
		query, _, _ = strings.Cut(query, "#")
		out = appendPairs(out, WhereQuery, query)
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/x-www-form-urlencoded":
		out = appendPairs(out, WhereForm, string(r.Body))
	case ct == "multipart/form-data" && params["boundary"] != "":
		mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if name := p.FormName(); name != "" && p.FileName() == "" {
				v, _ := io.ReadAll(io.LimitReader(p, 1<<16))
				out = append(out, dataField{where: WhereMultipart, name: name, value: string(v)})
			}
		}
	case strings.Contains(ct, "json") || (ct == "" && len(r.Body) > 0 && (r.Body[0] == '{' || r.Body[0] == '[')):
		var doc any
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if dec.Decode(&doc) == nil {
			out = appendJSONFields(out, doc, "", "")
		}
	}
	for _, h := range r.Header {
		switch strings.ToLower(h.Name) {
		case "cookie", "host", "content-length", "transfer-encoding", "connection", "content-type":
			continue
		}
		if !strings.HasPrefix(h.Name, ":") {
			out = append(out, dataField{where: WhereHeader, name: h.Name, value: h.Value})
		}
	}
	return out
}

// appendPairs appends the name=value pairs of a query or urlencoded body in
// order; pairs that do not unescape are skipped.
func appendPairs(out []dataField, where, s string) []dataField {
	for pair := range strings.SplitSeq(s, "&") {
		k, v, _ := strings.Cut(pair, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 == nil && err2 == nil && k != "" {
			out = append(out, dataField{where: where, name: k, value: v})
		}
	}
	return out
}

// appendJSONFields appends the string and number members of a decoded JSON
// document, objects' members in name order, with their dotted paths (array
// indexes are left out of paths).
func appendJSONFields(out []dataField, v any, name, path string) []dataField {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = appendJSONFields(out, x[k], k, p)
		}
	case []any:
		for _, c := range x {
			out = appendJSONFields(out, c, name, path)
		}
	case string:
		if name != "" {
			out = append(out, dataField{where: WhereJSON, name: name, path: path, value: x})
		}
	case json.Number:
		if name != "" {
			out = append(out, dataField{where: WhereJSON, name: name, path: path, value: x.String()})
		}
	}
	return out
}

// DataRowsNeeded returns how many rows the run of cfg needs at least with
// DataUnique (on this shard), and what says so, when that is known before
// the run: the iterations, else the users of the closed model (each user's
// first session needs a row), or the session copies of one pass of the
// timeline over sessions recorded sessions. It returns 0 for the other modes.
func DataRowsNeeded(cfg Config, sessions int) (int, string) {
	if cfg.DataMode != DataUnique {
		return 0, ""
	}
	if cfg.Timeline {
		whole, frac := math.Modf(cfg.Multiple)
		starts := 0
		for i := range sessions {
			starts += int(whole)
			if math.Floor(float64(i+1)*frac+1e-9) > math.Floor(float64(i)*frac+1e-9) {
				starts++
			}
		}
		what := fmt.Sprintf("the timeline starts %d session copies", starts)
		if cfg.Loop {
			what += " in each pass"
		}
		return shardRows(starts, cfg.Shard, cfg.Shards), what
	}
	if cfg.Iterations > 0 {
		return ShareOf(cfg.Iterations, cfg.Shard, cfg.Shards), fmt.Sprintf("{Iterations} %d", cfg.Iterations)
	}
	users, what := cfg.Users, fmt.Sprintf("{Users} %d", cfg.Users)
	if len(cfg.Stages) > 0 {
		users = 0
		for _, st := range cfg.Stages {
			users = max(users, st.Users)
		}
		what = fmt.Sprintf("{Stages} reach %d users", users)
	}
	return ShareOf(users, cfg.Shard, cfg.Shards), what
}

// PrepareData loads cfg's data file (or takes cfg.Data), binds its columns
// in the recording's sessions (index for index) and checks that DataUnique
// has enough rows for the run when that is known. It returns nil and no
// error when cfg has no data. Every error is one line naming the file and
// the problem; call it before anything is sent.
func PrepareData(cfg Config, sessions []*capture.Session) (*DataSet, [][]DataBinding, error) {
	nonEmpty := 0
	for _, s := range sessions {
		if len(s.Exchanges) > 0 {
			nonEmpty++
		}
	}
	return prepareData(cfg, slices.Values(sessions), nonEmpty)
}

// PrepareDataFile is PrepareData for a recording read a session at a time
// (OpenPlan): one pass over its sessions, in memory bounded by a session
// and the bindings found.
func PrepareDataFile(cfg Config, f *capture.File) (*DataSet, [][]DataBinding, error) {
	var readErr error
	sessions := func(yield func(*capture.Session) bool) {
		for i := range f.Sessions() {
			s, err := f.Session(i)
			if err != nil {
				readErr = err
				return
			}
			if !yield(s) {
				return
			}
		}
	}
	nonEmpty := 0
	for _, info := range f.Sessions() {
		if info.Exchanges > 0 {
			nonEmpty++
		}
	}
	d, bindings, err := prepareData(cfg, sessions, nonEmpty)
	if readErr != nil {
		return nil, nil, readErr
	}
	return d, bindings, err
}

// prepareData is PrepareData over sessions given one at a time, nonEmpty of
// which have exchanges.
func prepareData(cfg Config, sessions iter.Seq[*capture.Session], nonEmpty int) (*DataSet, [][]DataBinding, error) {
	d := cfg.Data
	if d == nil {
		if cfg.DataFile == "" {
			return nil, nil, nil
		}
		var err error
		if d, err = LoadData(cfg.DataFile); err != nil {
			return nil, nil, err
		}
	}
	bindings, err := bindData(d, sessions)
	if err != nil {
		return nil, nil, err
	}
	need, why := DataRowsNeeded(cfg, nonEmpty)
	if have := shardRows(len(d.Rows), cfg.Shard, cfg.Shards); need > have {
		where := ""
		if cfg.Shards > 1 {
			where = fmt.Sprintf(" on shard %d of %d (each shard takes its own share of the rows)", cfg.Shard, cfg.Shards)
		}
		return nil, nil, dataErr(d.Path, "%d rows are too few for {DataMode} unique: %s needs %d%s (each row is used once)", have, why, need, where)
	}
	return d, bindings, nil
}

// Swap is a recorded value and the value one user sends in its place.
type Swap struct {
	// Old is the recorded value.
	Old string
	// New is what this user sends instead.
	New string
}

// AppendRowSwaps appends to dst what bindings (of d's columns, from
// BindSession) replace for a user whose row is row (from Feed.Row): each
// binding's recorded value by the row's value of its column. Bindings whose
// value is unchanged are left out. Reusing dst per user keeps it from
// allocating.
func AppendRowSwaps(dst []Swap, d *DataSet, bindings []DataBinding, row []string) []Swap {
	for _, b := range bindings {
		c := d.Column(b.Column)
		if c < 0 || c >= len(row) || row[c] == b.Value {
			continue
		}
		dst = append(dst, Swap{Old: b.Value, New: row[c]})
	}
	return dst
}
