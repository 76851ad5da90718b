package replay_test

import (
	"fmt"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/replay"
)

// A data file of two accounts bound to a recorded login: each session takes
// the next row and sends its values in place of the recorded ones.
func ExampleBindSession() {
	d, err := replay.ParseData("users.csv", []byte("username,password\nalice,a-pw\nbob,b-pw\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	login := &capture.Session{ID: "1", Exchanges: []*capture.Exchange{{Request: capture.Request{
		Method: "POST", URL: "http://shop.example/login",
		Header: capture.Headers{{Name: "Content-Type", Value: "application/x-www-form-urlencoded"}},
		Body:   []byte("username=admin&password=hunter2"),
	}}}}
	bindings := replay.BindSession(d, login)
	for _, b := range bindings {
		fmt.Printf("column %s replaces %q (%s field %s)\n", b.Column, b.Value, b.Where, b.Name)
	}
	feed := replay.NewFeed(d, replay.DataNext, 0, 1, 1)
	for session := range 3 {
		row, _ := feed.Row(0)
		fmt.Println("session", session, replay.AppendRowSwaps(nil, d, bindings, row))
	}
	// Output:
	// column username replaces "admin" (form field username)
	// column password replaces "hunter2" (form field password)
	// session 0 [{admin alice} {hunter2 a-pw}]
	// session 1 [{admin bob} {hunter2 b-pw}]
	// session 2 [{admin alice} {hunter2 a-pw}]
}
