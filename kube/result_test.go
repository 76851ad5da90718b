package kube_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ampload/amp/kube"
)

// bigResult is JSON large enough that its block spans many lines.
func bigResult(n int) []byte {
	var pts []map[string]any
	for i := range n {
		pts = append(pts, map[string]any{"t": 1_800_000_000 + i, "requests": i * 7 % 13, "hdr": strings.Repeat(fmt.Sprint(i), 9)})
	}
	b, _ := json.Marshal(map[string]any{"version": 1, "series": pts})
	return b
}

func TestResultRoundTrip(t *testing.T) {
	t.Parallel()
	r0, r1 := bigResult(2000), []byte(`{"version":1,"requests":3}`)
	var log bytes.Buffer
	log.WriteString("replaying /recording/shop.amp: 2 sessions\n Type  Name  # reqs\n-----BEGIN CERTIFICATE-----\nnot base64!\n")
	log.WriteString("live console without a trailing newline")
	if err := kube.WriteResult(&log, "0/2", r0); err != nil {
		t.Fatal(err)
	}
	log.WriteString("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\nresult: /results/x.json\n")
	if err := kube.WriteResult(&log, "", r1); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(log.String()) {
		if len(line) > 80 {
			t.Fatalf("a line of %d bytes: container runtimes split lines over 16 KiB, keep them short", len(line))
		}
	}
	got, err := kube.ReadResults(log.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Shard != "0/2" || got[1].Shard != "" || !bytes.Equal(got[0].JSON, r0) || !bytes.Equal(got[1].JSON, r1) {
		t.Fatalf("got %d results: %+v", len(got), got)
	}
	if log.Len() > len(r0)/2 {
		t.Errorf("the log holds %d bytes for %d of JSON: gzip should shrink this series", log.Len(), len(r0))
	}
}

// TestResultCut cuts a block everywhere: ReadResults returns either no
// result or an error, never a wrong one.
func TestResultCut(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := kube.WriteResult(&b, "3/8", bigResult(300)); err != nil {
		t.Fatal(err)
	}
	full := b.Bytes()
	for n := 0; n < len(full)-1; n += 7 {
		got, err := kube.ReadResults(full[:n])
		if len(got) != 0 {
			t.Fatalf("cut at %d of %d: got a result (err %v)", n, len(full), err)
		}
	}
	// A damaged byte inside the base64 body.
	bad := bytes.Clone(full)
	i := bytes.Index(bad, []byte("\n\n")) + 40
	bad[i] = map[bool]byte{true: 'B', false: 'A'}[bad[i] == 'A']
	if got, err := kube.ReadResults(bad); err == nil || len(got) != 0 || !strings.Contains(err.Error(), "shard 3/8") {
		t.Errorf("damaged block: %d results, error %v", len(got), err)
	}
}

func FuzzReadResults(f *testing.F) {
	var b bytes.Buffer
	_ = kube.WriteResult(&b, "1/4", []byte(`{"a":1}`))
	f.Add(b.Bytes())
	f.Add([]byte("-----BEGIN AMP RESULT-----\nContent-Encoding: identity\n\ne30=\n-----END AMP RESULT-----\n"))
	f.Add([]byte("-----BEGIN AMP RESULT-----\n\nbm90IGpzb24=\n-----END AMP RESULT-----\n"))
	f.Add([]byte("no block at all"))
	f.Fuzz(func(t *testing.T, log []byte) {
		got, _ := kube.ReadResults(log)
		for _, r := range got {
			if !json.Valid(r.JSON) {
				t.Fatalf("returned invalid JSON %q", r.JSON)
			}
		}
	})
}

func ExampleWriteResult() {
	var log bytes.Buffer
	log.WriteString("... the end-of-run report ...\n")
	_ = kube.WriteResult(&log, "2/4", []byte(`{"version":1,"requests":42}`))

	results, err := kube.ReadResults(log.Bytes())
	if err != nil {
		panic(err)
	}
	fmt.Println(results[0].Shard, string(results[0].JSON))
	// Output: 2/4 {"version":1,"requests":42}
}

func ExampleBuild() {
	cfg := kube.DefaultConfig()
	cfg.Name, cfg.Image, cfg.Shards = "amp-shop", "registry.example/amp:1.0", 4
	cfg.StartAt = testStart
	cfg.RecordingURL = "https://files.example/shop.amp"
	cfg.ReplayArgs = []string{"--host", "https://staging.shop", "--users", "400", "--duration", "5m"}
	cfg.Users = 400
	// The pods' memory, from counts of the recording and of the run.
	mem := kube.PodMemory(kube.Load{Sessions: 200, Exchanges: 20000, Bytes: 50 << 20, LargestSession: 2 << 20,
		LargestExchange: 256 << 10, Users: 400, Shards: 4})
	cfg.MemoryRequest, cfg.MemoryLimit = mem.Quantities()
	objs, err := kube.Build(cfg)
	if err != nil {
		panic(err)
	}
	c := objs.Job.Spec.Template.Spec.Containers[0]
	fmt.Println(*objs.Job.Spec.CompletionMode, *objs.Job.Spec.Parallelism, cfg.Kinds())
	fmt.Println(strings.Join(c.Args, " "))
	fmt.Println(c.Resources.Requests.Memory(), c.Resources.Limits.Memory())
	// Output:
	// Indexed 4 job,secret,service
	// replay $(AMP_RECORDING_URL) --shard $(JOB_COMPLETION_INDEX)/4 --start-at 2030-01-02T03:04:05Z --metrics :9464 --print-result --no-default-thresholds --host https://staging.shop --users 400 --duration 5m
	// 261Mi 327Mi
}
