package watch_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ampload/amp/stats/watch"
)

func TestTargets(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"shards.txt": "# the run's shards\nhttp://10.0.0.1:9464/metrics\n\n  http://10.0.0.2:9464  \n",
		"bad.txt":    "http://10.0.0.3:9464/metrics\n10.0.0.4:9464\n",
		"empty.txt":  "# nothing yet\n",
	}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, os.ErrNotExist
	}
	got, err := watch.Targets([]string{"shards.txt", "https://shard-3.example/"}, read)
	want := []string{"http://10.0.0.1:9464/metrics", "http://10.0.0.2:9464/metrics", "https://shard-3.example/metrics"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("Targets = %q, %v; want %q", got, err, want)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bad.txt"}, `bad.txt:2: "10.0.0.4:9464": want an http:// or https:// URL`},
		{[]string{"empty.txt"}, "empty.txt: no URL in the file"},
		{[]string{"nope.txt"}, "nope.txt: neither a URL nor a readable file"},
		{[]string{"http://a:1/metrics", "http://a:1"}, "http://a:1/metrics is given twice"},
		{[]string{"http:///metrics"}, "no host"},
		{nil, "got none"},
	} {
		_, err := watch.Targets(c.args, read)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Targets(%q): %v, want one line with %q", c.args, err, c.want)
		}
	}
}

// FuzzParseTargets: any file gives URLs with a host and a path, or one line
// naming the file.
func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{"http://a:1/metrics\n", "# c\n\nhttps://b/\n", "x\n", "http://[::1]:9/m\r\n", "http://%zz/"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		urls, err := watch.ParseTargets("f.txt", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.txt:") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q: want one line naming the file", err)
			}
			return
		}
		for _, u := range urls {
			if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
				t.Fatalf("%q is no URL", u)
			}
		}
	})
}
