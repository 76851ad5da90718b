package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/ampload/amp/demosite"
	"github.com/ampload/amp/replay"
	"github.com/ampload/amp/web"
)

// A script written for Locust's web API starts a replay with POST /swarm
// and waits for the end of its run time.
func Example() {
	site := httptest.NewServer(demosite.New(demosite.Config{}))
	defer site.Close()

	rec := browseRecording(2) // a recording of 2 visitors of the shop
	def := replay.DefaultConfig()
	def.Host = site.URL // the form's defaults: replay the shop against the demo site
	ui := web.New(web.Config{Defaults: def, Recording: rec, Path: "shop.amp", NewRun: newRunFunc(rec)})
	srv := httptest.NewServer(ui) // amp replay --web listens on 127.0.0.1:8089
	defer srv.Close()
	defer ui.Close()

	resp, err := http.PostForm(srv.URL+"/swarm", url.Values{"user_count": {"2"}, "spawn_rate": {"10"}, "run_time": {"0.5"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var reply struct {
		Success bool    `json:"success"`
		Message string  `json:"message"`
		RunTime float64 `json:"run_time"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&reply)
	resp.Body.Close()
	fmt.Println(reply.Success, reply.Message, reply.RunTime)

	<-ui.Done()
	res := ui.Result()
	fmt.Println("requests sent:", res.Requests > 0, "peak users:", res.Users)
	// Output:
	// true Swarming started 0.5
	// requests sent: true peak users: 2
}
