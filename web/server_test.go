package web_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/stats"
	"github.com/ampload/amp/web"
)

// get fetches path and returns the status and body.
func get(t testing.TB, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func postForm(t testing.TB, base, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: %d, body is not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// locustStats decodes GET /stats/requests into a map, checking it is JSON.
func locustStats(t testing.TB, base string) map[string]any {
	t.Helper()
	code, body := get(t, base, "/stats/requests")
	if code != http.StatusOK {
		t.Fatalf("/stats/requests: %d %s", code, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("/stats/requests is not JSON: %v\n%s", err, body)
	}
	return m
}

// aggregated returns the "Aggregated" row of a /stats/requests body.
func aggregated(t testing.TB, m map[string]any) map[string]any {
	t.Helper()
	rows, _ := m["stats"].([]any)
	if len(rows) == 0 {
		t.Fatalf("no stats rows in %v", m)
	}
	last, _ := rows[len(rows)-1].(map[string]any)
	if last["name"] != "Aggregated" {
		t.Fatalf("last stats row is %v, want the Aggregated row", last["name"])
	}
	return last
}

// The acceptance test of the REST API: POST /swarm user_count=10
// spawn_rate=5 starts a run, and /stats/requests has Locust's shape.
func TestSwarmStartsRunWithLocustShape(t *testing.T) {
	t.Parallel()
	s, srv, demo := newTestServer(t, nil)
	base := srv.URL

	m := locustStats(t, base)
	if m["state"] != "ready" || m["user_count"] != 0.0 {
		t.Fatalf("before a start: state %v users %v, want ready and 0", m["state"], m["user_count"])
	}

	code, rep := postForm(t, base, "/swarm", url.Values{"user_count": {"10"}, "spawn_rate": {"5"}})
	if code != http.StatusOK || rep["success"] != true || rep["message"] != "Swarming started" || rep["host"] != demo {
		t.Fatalf("POST /swarm: %d %v", code, rep)
	}

	waitFor(t, 15*time.Second, "requests to be counted and users to spawn", func() bool {
		m = locustStats(t, base)
		agg := aggregated(t, m)
		return agg["num_requests"].(float64) > 20 && m["user_count"].(float64) >= 5
	})
	for _, key := range []string{"stats", "errors", "total_rps", "total_fail_per_sec", "fail_ratio", "user_count", "state", "current_response_time_percentiles"} {
		if _, ok := m[key]; !ok {
			t.Errorf("/stats/requests lacks %q", key)
		}
	}
	if st := m["state"]; st != "spawning" && st != "running" {
		t.Errorf("state %v, want spawning or running", st)
	}
	if _, ok := m["errors"].([]any); !ok {
		t.Errorf("errors is %T, want a list", m["errors"])
	}
	pcts, _ := m["current_response_time_percentiles"].(map[string]any)
	for _, k := range []string{"response_time_percentile_0.5", "response_time_percentile_0.95"} {
		if _, ok := pcts[k].(float64); !ok {
			t.Errorf("current_response_time_percentiles lacks %q: %v", k, pcts)
		}
	}
	agg := aggregated(t, m)
	if agg["method"] != nil {
		t.Errorf("Aggregated method %v, want null as Locust's", agg["method"])
	}
	for _, k := range []string{"method", "name", "safe_name", "num_requests", "num_failures", "avg_response_time",
		"min_response_time", "max_response_time", "current_rps", "current_fail_per_sec", "median_response_time",
		"ninetieth_response_time", "ninety_ninth_response_time", "response_time_percentile_0.95",
		"response_time_percentile_0.99", "avg_content_length"} {
		if _, ok := agg[k]; !ok {
			t.Errorf("stats row lacks %q", k)
		}
	}
	if agg["avg_response_time"].(float64) <= 0 || agg["max_response_time"].(float64) < agg["min_response_time"].(float64) {
		t.Errorf("response times look wrong: %v", agg)
	}
	rows := m["stats"].([]any)
	names := map[string]bool{}
	var sum float64
	for _, r := range rows[:len(rows)-1] {
		row := r.(map[string]any)
		names[row["method"].(string)+" "+row["name"].(string)] = true
		sum += row["num_requests"].(float64)
	}
	if !names["GET /articles"] || !names["GET /static/style.css"] {
		t.Errorf("endpoint rows %v lack GET /articles or GET /static/style.css", names)
	}
	if sum != agg["num_requests"].(float64) {
		t.Errorf("endpoint rows add up to %v requests, Aggregated says %v", sum, agg["num_requests"])
	}

	// Locust's Edit: POST /swarm while running changes the user count.
	code, rep = postForm(t, base, "/swarm", url.Values{"user_count": {"3"}, "spawn_rate": {"5"}})
	if code != http.StatusOK || rep["success"] != true {
		t.Fatalf("edit: %d %v", code, rep)
	}
	waitFor(t, 15*time.Second, "the users to drop to 3", func() bool {
		return locustStats(t, base)["user_count"] == 3.0
	})

	code, body := get(t, base, "/stop")
	if code != http.StatusOK || !strings.Contains(body, `"success":true`) {
		t.Fatalf("/stop: %d %s", code, body)
	}
	select {
	case <-s.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the run did not finish after /stop")
	}
	m = locustStats(t, base)
	if m["state"] != "stopped" || m["user_count"] != 0.0 {
		t.Errorf("after stop: state %v users %v", m["state"], m["user_count"])
	}

	_, csv := get(t, base, "/stats/requests/csv")
	if firstLine(csv) != locustHeader {
		t.Errorf("requests CSV header\n%q\nwant\n%q", firstLine(csv), locustHeader)
	}
	if !strings.Contains(csv, "\nGET,/articles,") || !strings.Contains(csv, ",Aggregated,") {
		t.Errorf("requests CSV lacks rows:\n%s", csv)
	}
	if _, fcsv := get(t, base, "/stats/failures/csv"); firstLine(fcsv) != "Method,Name,Error,Occurrences,First Seen,Last Seen" {
		t.Errorf("failures CSV header %q", firstLine(fcsv))
	}
	if _, tr := get(t, base, "/stats/traffic/csv"); !strings.HasPrefix(tr, "Type,Name,Request Count,Failure Count,Bytes Sent,Bytes Received,Status 200,") ||
		!strings.Contains(tr, ",Aggregated,") {
		t.Errorf("traffic CSV:\n%s", tr)
	}
	if _, h := get(t, base, "/stats/requests_full_history/csv"); !strings.HasPrefix(h, "Timestamp,User Count,Type,Name,") {
		t.Errorf("history CSV header %q", firstLine(h))
	}
	if _, rep := get(t, base, "/stats/report"); !strings.Contains(rep, "<svg") || !strings.Contains(rep, "/articles") {
		t.Errorf("/stats/report is not the HTML report with charts: %.300s", rep)
	}
	_, js := get(t, base, "/api/result")
	res, err := stats.DecodeResult(strings.NewReader(js))
	if err != nil {
		t.Fatalf("/api/result: %v", err)
	}
	if res.Requests != int64(agg["num_requests"].(float64)) && res.Requests < int64(agg["num_requests"].(float64)) {
		t.Errorf("/api/result has %d requests, fewer than the %v seen while running", res.Requests, agg["num_requests"])
	}

	// Reset stats: Locust answers "ok" and the counts start again from zero.
	if code, body := get(t, base, "/stats/reset"); code != http.StatusOK || body != "ok" {
		t.Fatalf("/stats/reset: %d %q", code, body)
	}
	if n := aggregated(t, locustStats(t, base))["num_requests"]; n != 0.0 {
		t.Errorf("after reset: %v requests, want 0", n)
	}

	// A new test after the stop builds a new run.
	code, rep = postForm(t, base, "/swarm", url.Values{"user_count": {"2"}, "spawn_rate": {"10"}, "run_time": {"1"}})
	if code != http.StatusOK || rep["success"] != true || rep["run_time"] != 1.0 {
		t.Fatalf("second start: %d %v", code, rep)
	}
	waitFor(t, 15*time.Second, "the second run to end by its run time", func() bool {
		return locustStats(t, base)["state"] == "stopped"
	})
}

func TestSwarmRejectsBadInput(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, nil)
	base := srv.URL
	tests := []struct {
		name string
		form url.Values
		want []string // in the message
	}{
		{"not a number", url.Values{"user_count": {"ten"}, "spawn_rate": {"x"}}, []string{`user_count "ten": want a whole number`, `spawn_rate "x": want a number`}},
		{"bad run time", url.Values{"run_time": {"soon"}}, []string{`run_time "soon"`}},
		// NewRun validates: its message is shown as it is.
		{"zero users", url.Values{"user_count": {"0"}}, []string{"number of users 0: want at least 1"}},
		{"bad host", url.Values{"host": {"ftp://x"}}, []string{"host ftp://x"}},
	}
	for _, tc := range tests {
		code, rep := postForm(t, base, "/swarm", tc.form)
		if code != http.StatusBadRequest || rep["success"] != false {
			t.Errorf("%s: %d %v, want 400 and success false", tc.name, code, rep)
			continue
		}
		for _, w := range tc.want {
			if msg, _ := rep["message"].(string); !strings.Contains(msg, w) {
				t.Errorf("%s: message %q lacks %q", tc.name, msg, w)
			}
		}
	}
	if s.Result() != nil {
		t.Error("a rejected start left a run behind")
	}
	// The page shows why the last start failed.
	_, body := get(t, base, "/api/state")
	if !strings.Contains(body, `"message":"host ftp://x`) {
		t.Errorf("/api/state does not carry the start error: %.300s", body)
	}
}

func TestTimelineCannotBeEdited(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, nil)
	code, rep := postForm(t, srv.URL, "/swarm", url.Values{"timeline": {"true"}, "multiple": {"2"}, "speed": {"10"}})
	if code != http.StatusOK || rep["success"] != true {
		t.Fatalf("timeline start: %d %v", code, rep)
	}
	code, rep = postForm(t, srv.URL, "/swarm", url.Values{"user_count": {"50"}})
	if code != http.StatusConflict || !strings.Contains(rep["message"].(string), "timeline") {
		// The timeline may already be over (it is short at speed 10).
		if st := locustStats(t, srv.URL)["state"]; code != http.StatusOK || st != "stopped" {
			t.Errorf("edit of a timeline replay: %d %v", code, rep)
		}
	}
	select {
	case <-s.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the timeline did not end by itself")
	}
	if r := s.Result(); r.Requests == 0 {
		t.Error("the timeline replay sent no requests")
	}
}

// TestArrivalRateCannotBeEdited: a replay started with an arrival rate (from
// the command line's defaults) refuses an edit of its users instead of
// ignoring it.
func TestArrivalRateCannotBeEdited(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, func(c *web.Config) {
		c.Defaults.ArrivalRate, c.Defaults.Duration = 20, 30*time.Second
	})
	code, rep := postForm(t, srv.URL, "/swarm", url.Values{})
	if code != http.StatusOK || rep["success"] != true {
		t.Fatalf("arrival-rate start: %d %v", code, rep)
	}
	code, rep = postForm(t, srv.URL, "/swarm", url.Values{"user_count": {"50"}})
	if code != http.StatusConflict || !strings.Contains(rep["message"].(string), "arrival-rate replay") {
		t.Errorf("edit of an arrival-rate replay: %d %v", code, rep)
	}
	s.Stop()
}

func TestRefusesCrossSiteAndRebinding(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, nil)
	do := func(method, path string, hdr map[string]string, host string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader("user_count=1&spawn_rate=1"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if host != "" {
			req.Host = host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cross := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
	if c := do("POST", "/swarm", cross, ""); c != http.StatusForbidden {
		t.Errorf("cross-site POST /swarm: %d, want 403", c)
	}
	if c := do("GET", "/stop", cross, ""); c != http.StatusForbidden {
		t.Errorf("cross-site GET /stop: %d, want 403", c)
	}
	if c := do("GET", "/stats/reset", cross, ""); c != http.StatusForbidden {
		t.Errorf("cross-site GET /stats/reset: %d, want 403", c)
	}
	if c := do("GET", "/stats/requests", nil, "evil.example"); c != http.StatusForbidden {
		t.Errorf("DNS-rebound Host evil.example: %d, want 403", c)
	}
	for _, h := range []string{"localhost:8089", "127.0.0.1", "[::1]:8089", "app.localhost"} {
		if c := do("GET", "/stats/requests", nil, h); c != http.StatusOK {
			t.Errorf("Host %s: %d, want 200", h, c)
		}
	}
	if s.Result() != nil {
		t.Error("a refused request started a run")
	}
	// Same-origin requests from the page and scripts without browser headers work.
	if c := do("POST", "/swarm", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": srv.URL}, ""); c != http.StatusOK {
		t.Errorf("same-origin POST /swarm: %d, want 200", c)
	}
}

func TestSessionsAndCorrelations(t *testing.T) {
	t.Parallel()
	_, srv, _ := newTestServer(t, nil)
	var page struct {
		Total    int `json:"total"`
		Sessions []struct {
			ID       string `json:"id"`
			Requests int    `json:"requests"`
			First    string `json:"first"`
		} `json:"sessions"`
	}
	_, body := get(t, srv.URL, "/api/sessions?limit=2")
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != 4 || len(page.Sessions) != 2 || page.Sessions[0].ID != "visitor-1" || page.Sessions[0].Requests != 5 || page.Sessions[0].First != "GET /" {
		t.Errorf("/api/sessions?limit=2: %+v", page)
	}

	var corr struct {
		Scanned int `json:"scanned"`
		Rules   []struct {
			Name, Source, From string
			UsedIn             []string `json:"used_in"`
			Sessions           int
		} `json:"rules"`
	}
	_, body = get(t, srv.URL, "/api/correlations")
	if err := json.Unmarshal([]byte(body), &corr); err != nil {
		t.Fatal(err)
	}
	var csrf bool
	for _, r := range corr.Rules {
		if r.Name == "csrf_token" && r.From == "GET /login" && strings.Contains(r.Source, "csrf") && r.Sessions == 1 {
			csrf = true
			if len(r.UsedIn) == 0 || !strings.HasPrefix(r.UsedIn[0], "POST /login") {
				t.Errorf("csrf_token used in %v, want POST /login", r.UsedIn)
			}
		}
	}
	if corr.Scanned != 4 || !csrf {
		t.Errorf("/api/correlations lacks the login form's csrf_token: %s", body)
	}

	// The editor's session: its requests and its own correlations.
	var detail struct {
		ID        string `json:"id"`
		Exchanges []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		} `json:"exchanges"`
		Correlations []struct {
			Name string `json:"name"`
			From int    `json:"from"`
		} `json:"correlations"`
	}
	_, body = get(t, srv.URL, "/api/sessions/1")
	if err := json.Unmarshal([]byte(body), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.ID != "editor-1" || len(detail.Exchanges) < 5 || detail.Exchanges[1].Method != "POST" || detail.Exchanges[1].Path != "/login" || len(detail.Correlations) == 0 {
		t.Errorf("/api/sessions/1: %s", body)
	}
	if code, _ := get(t, srv.URL, "/api/sessions/99"); code != http.StatusNotFound {
		t.Errorf("/api/sessions/99: %d, want 404", code)
	}
	var info struct {
		Path      string `json:"path"`
		Recording struct {
			Sessions, Exchanges int
			Hosts               []struct{ Host string }
		} `json:"recording"`
		Defaults struct {
			UserCount int    `json:"user_count"`
			Host      string `json:"host"`
		} `json:"defaults"`
	}
	_, body = get(t, srv.URL, "/api/info")
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	if info.Path != "shop.amp" || info.Recording.Sessions != 4 || info.Recording.Exchanges != 3*5+7 || len(info.Recording.Hosts) != 1 ||
		info.Recording.Hosts[0].Host != "shop.example" || info.Defaults.UserCount != replay.DefaultUsers {
		t.Errorf("/api/info: %s", body)
	}
}

func TestPageAndAssetsAreServed(t *testing.T) {
	t.Parallel()
	_, srv, _ := newTestServer(t, nil)
	code, body := get(t, srv.URL, "/")
	if code != http.StatusOK || !strings.Contains(body, `<table id="stats-table"`) || !strings.Contains(body, "/assets/app.js") {
		t.Fatalf("GET /: %d %.200s", code, body)
	}
	for _, p := range []string{"/assets/app.js", "/assets/charts.js", "/assets/style.css", "/assets/favicon.svg"} {
		if code, body := get(t, srv.URL, p); code != http.StatusOK || len(body) < 100 {
			t.Errorf("GET %s: %d, %d bytes", p, code, len(body))
		}
	}
	// Before any start the downloads exist, empty, with their headers.
	if code, csv := get(t, srv.URL, "/stats/requests/csv"); code != http.StatusOK || firstLine(csv) != locustHeader {
		t.Errorf("requests CSV before a start: %d %q", code, firstLine(csv))
	}
	for _, p := range []string{"/stats/report", "/api/result", "/stats/failures/csv", "/exceptions/csv", "/exceptions"} {
		if code, body := get(t, srv.URL, p); code != http.StatusOK || body == "" {
			t.Errorf("GET %s before a start: %d %.100q", p, code, body)
		}
	}
	for _, p := range []string{"/", "/assets/app.js"} {
		_, body := get(t, srv.URL, p)
		if strings.Contains(body, "http://") && !strings.Contains(body, "127.0.0.1") || strings.Contains(body, "https://") {
			t.Errorf("%s refers to an outside URL; the UI must work offline", p)
		}
	}
}

func TestAutostartAndClose(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, func(c *web.Config) {
		c.Autostart = true
		c.Defaults.Users = 2
		c.Defaults.Duration = 500 * time.Millisecond
	})
	select {
	case <-s.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("the autostarted run did not end after its duration")
	}
	if r := s.Result(); r == nil || r.Requests == 0 {
		t.Fatalf("the autostarted run sent no requests: %+v", r)
	}
	if m := locustStats(t, srv.URL); m["state"] != "stopped" {
		t.Errorf("state %v after the run, want stopped", m["state"])
	}

	// Close stops a running replay and refuses new ones.
	if err := s.Start(replay.Config{}); err == nil {
		t.Error("Start with an empty config succeeded")
	}
	cfg := replay.DefaultConfig()
	cfg.Host = locustStatsHost(t, srv.URL)
	cfg.Users = 2
	if err := s.Start(cfg); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(cfg); !errors.Is(err, web.ErrRunning) {
		t.Errorf("second Start while running: %v, want ErrRunning", err)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := s.Start(cfg); !errors.Is(err, web.ErrClosed) {
		t.Errorf("Start after Close: %v, want ErrClosed", err)
	}
}

// locustStatsHost returns the host the server's form defaults to.
func locustStatsHost(t testing.TB, base string) string {
	t.Helper()
	_, body := get(t, base, "/api/info")
	var info struct {
		Defaults struct {
			Host string `json:"host"`
		} `json:"defaults"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatal(err)
	}
	return info.Defaults.Host
}

// The page's live updates: an event a second, the first with the whole
// series, the next ones with the seconds the page lacks; Close ends the
// stream.
func TestEventStream(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, nil)
	if code, rep := postForm(t, srv.URL, "/swarm", url.Values{"user_count": {"3"}, "spawn_rate": {"10"}}); code != http.StatusOK {
		t.Fatalf("start: %d %v", code, rep)
	}
	resp, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	type event struct {
		Run    int    `json:"run"`
		State  string `json:"state"`
		Full   bool   `json:"full"`
		Series []struct {
			T int64 `json:"t"`
		} `json:"series"`
		Totals struct {
			Requests int64 `json:"requests"`
		} `json:"totals"`
	}
	dec := bufioLines(resp.Body)
	var events []event
	for len(events) < 4 {
		line, ok := dec()
		if !ok {
			t.Fatalf("the stream ended after %d events", len(events))
		}
		data, found := strings.CutPrefix(line, "data: ")
		if !found {
			continue
		}
		var e event
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		events = append(events, e)
	}
	had := false // whether the page has got points of the series yet
	for i, e := range events {
		if e.Full != !had || e.Run != 1 {
			t.Errorf("event %d: full %v (run %d), want the whole series until the page has points, then increments", i, e.Full, e.Run)
		}
		had = had || len(e.Series) > 0
	}
	if !had {
		t.Error("no event carried a second of the series")
	}
	if events[3].Totals.Requests <= events[0].Totals.Requests {
		t.Errorf("requests did not rise over the events: %d then %d", events[0].Totals.Requests, events[3].Totals.Requests)
	}
	if last := events[1].Series; len(last) > 0 && len(events[0].Series) > 0 && last[0].T < events[0].Series[len(events[0].Series)-1].T {
		t.Errorf("an increment resent seconds the page had: %v after %v", last, events[0].Series)
	}
	s.Close()
	for {
		if _, ok := dec(); !ok {
			break // Close ended the stream
		}
	}
}

// TestStateShowsJourneys: a replay with journeys carries each journey's
// totals in the page's state.
func TestStateShowsJourneys(t *testing.T) {
	t.Parallel()
	s, srv, _ := newTestServer(t, func(c *web.Config) {
		ids := []string{}
		for _, sess := range c.Recording.Sessions {
			ids = append(ids, sess.ID)
		}
		c.Defaults.Journeys = []replay.Journey{{Name: "first", Weight: 3, Sessions: ids[:1]}, {Name: "rest", Weight: 1, Sessions: ids[1:]}}
		c.Defaults.Think = replay.Think{Mode: replay.ThinkNone}
	})
	if code, rep := postForm(t, srv.URL, "/swarm", url.Values{"user_count": {"2"}}); code != http.StatusOK {
		t.Fatalf("start: %d %v", code, rep)
	}
	var st struct {
		Journeys []struct {
			Name     string `json:"name"`
			Requests int64  `json:"requests"`
		} `json:"journeys"`
	}
	waitFor(t, 10*time.Second, "both journeys' requests", func() bool {
		_, body := get(t, srv.URL, "/api/state")
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		return len(st.Journeys) == 2 && st.Journeys[0].Requests > 0 && st.Journeys[1].Requests > 0
	})
	if st.Journeys[0].Name != "first" || st.Journeys[1].Name != "rest" {
		t.Errorf("journeys %+v", st.Journeys)
	}
	s.Stop()
}
