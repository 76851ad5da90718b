package kube

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ampload/amp/internal/outfile"
	"github.com/ampload/amp/stats"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// DefaultPoll is how often Collect looks at a Job it waits for.
const DefaultPoll = 5 * time.Second

// CollectConfig says which Job's results Collect gathers, and where to.
type CollectConfig struct {
	Job       string
	Namespace string // "" = kubectl's current namespace
	Context   string // kubeconfig context; "" = the current one
	Kubectl   string // the kubectl command; "" = "kubectl" on PATH
	Dir       string // the directory the shard results are written to
	// Wait is how long to wait for a Job still running; 0 refuses one.
	Wait time.Duration
	// Poll is how often a running Job is looked at (DefaultPoll if 0).
	Poll time.Duration
	// Progress receives one line per step; nil for none.
	Progress io.Writer
}

// Collected says what Collect or SaveResults wrote.
type Collected struct {
	Shards  int      // the shards of the run
	Files   []string // the files written, in shard order
	Missing []int    // shards without a result
	Why     []string // for each missing shard, why
	// Late are the shards that began after the shared start (LateShards):
	// warnings, as their results are whole.
	Late []string
}

// Err is the error for the missing shards, or nil.
func (c *Collected) Err() error {
	if len(c.Missing) == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d shards have no result (%s); wrote the other %d",
		len(c.Missing), c.Shards, strings.Join(c.Why, "; "), len(c.Files))
}

// Collect reads the result of every shard of a finished Job from its pods'
// logs (kubectl get and kubectl logs) and writes each to Dir as
// shard-I.json, for amp report --merge. It writes every result it finds;
// when some shard has none, the returned Collected says which and why, and
// the error is Collected.Err.
func Collect(ctx context.Context, c CollectConfig) (*Collected, error) {
	k := kubectl{cfg: c}
	job, err := k.job(ctx)
	if err != nil {
		return nil, err
	}
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion || job.Spec.Completions == nil {
		return nil, fmt.Errorf("job %s is not an Indexed Job (amp kube job makes those)", c.Job)
	}
	shards := int(*job.Spec.Completions)
	if !finished(job) {
		if c.Wait <= 0 {
			return nil, fmt.Errorf("job %s is still running (%s); wait for it with --wait 30m", c.Job, counts(job, shards))
		}
		if err := k.wait(ctx, job, shards); err != nil {
			return nil, err
		}
	}

	var pods corev1.PodList
	if err := k.getJSON(ctx, &pods, "get", "pods", "--selector", LabelJobName+"="+c.Job, "--output", "json"); err != nil {
		return nil, err
	}
	byIndex := map[int][]corev1.Pod{}
	for _, p := range pods.Items {
		if i, err := strconv.Atoi(p.Annotations[AnnotationIndex]); err == nil && i >= 0 && i < shards {
			byIndex[i] = append(byIndex[i], p)
		}
	}

	var found []Result
	var why []string
	missing := map[int]string{}
	for i := range shards {
		cands := byIndex[i]
		// The pod that succeeded first, then failed ones (a failed
		// threshold exits 99 after printing its result), newest first.
		slices.SortStableFunc(cands, func(a, b corev1.Pod) int {
			if c := cmp.Compare(phaseRank(a), phaseRank(b)); c != 0 {
				return c
			}
			return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
		})
		if len(cands) == 0 {
			missing[i] = "no pod (deleted, or the Job's TTL passed)"
			continue
		}
		want := fmt.Sprintf("%d/%d", i, shards)
		mine := func(r Result) bool {
			si, sn, err := parseShard(r.Shard)
			return err == nil && si == i && sn == shards
		}
		why = why[:0]
		var got *Result
		for _, p := range cands {
			k.progress("reading the log of %s (shard %s, %s)", p.Name, want, p.Status.Phase)
			log, err := k.run(ctx, "logs", p.Name, "--container", Container)
			if err != nil {
				why = append(why, fmt.Sprintf("pod %s: %v", p.Name, err))
				continue
			}
			res, err := ReadResults(log)
			for j := len(res) - 1; j >= 0 && got == nil; j-- {
				if mine(res[j]) {
					got = &res[j]
				}
			}
			if got != nil {
				break
			}
			switch {
			case err != nil:
				why = append(why, fmt.Sprintf("pod %s: %v", p.Name, err))
			default:
				why = append(why, fmt.Sprintf("pod %s (%s): no result in its log", p.Name, podState(p)))
			}
		}
		if got == nil {
			missing[i] = strings.Join(why, ", ")
			continue
		}
		found = append(found, *got)
	}

	col, err := SaveResults(c.Dir, found, shards)
	if err != nil {
		return col, err
	}
	for j, i := range col.Missing {
		col.Why[j] = fmt.Sprintf("shard %d: %s", i, missing[i])
	}
	return col, col.Err()
}

// SaveResults writes results to dir, one file per shard (shard-I.json,
// zero-padded so that a shell glob sorts them), after checking that each
// reads back as a result. shards is the run's shard count, or 0 to take it
// from the results' Shard headers. It refuses to overwrite a file and to
// take two results of one shard. Collected.Late lists the shards that
// began after the run's shared start.
func SaveResults(dir string, results []Result, shards int) (*Collected, error) {
	byShard := map[int]Result{}
	var decoded []*stats.Result
	var names []string
	for _, r := range results {
		i, n, err := parseShard(r.Shard)
		if err != nil {
			return nil, err
		}
		if shards == 0 {
			shards = n
		}
		if n != shards {
			return nil, fmt.Errorf("results of runs with %d and %d shards: keep one run's results together", shards, n)
		}
		if _, dup := byShard[i]; dup {
			return nil, fmt.Errorf("two results of shard %d/%d", i, n)
		}
		res, err := stats.DecodeResult(bytes.NewReader(r.JSON))
		if err != nil {
			return nil, fmt.Errorf("shard %s: %w", r.Shard, err)
		}
		byShard[i] = r
		decoded = append(decoded, res)
		names = append(names, "shard "+cmp.Or(r.Shard, "0/1"))
	}
	// The logs of two runs (a job re-created under its name) do not mix.
	if err := stats.CheckMerge(decoded, names, false); err != nil {
		return nil, err
	}
	col := &Collected{Shards: shards, Late: LateShards(decoded, DefaultLateAfter)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	width := len(strconv.Itoa(max(shards-1, 0)))
	for i := range shards {
		r, ok := byShard[i]
		if !ok {
			col.Missing = append(col.Missing, i)
			col.Why = append(col.Why, fmt.Sprintf("shard %d: not in the logs given", i))
			continue
		}
		name := filepath.Join(dir, fmt.Sprintf("shard-%0*d.json", width, i))
		if _, err := os.Lstat(name); err == nil {
			return col, fmt.Errorf("%s exists: collect into an empty directory", name)
		}
		// Written whole or not at all, and never over a file that appeared.
		f, err := outfile.Create(name, false, 0o644)
		if err != nil {
			return col, err
		}
		if _, err = f.Write(r.JSON); err == nil {
			err = f.Commit()
		} else {
			f.Abort()
		}
		if err != nil {
			if strings.Contains(err.Error(), "already exists") {
				return col, fmt.Errorf("%s exists: collect into an empty directory", name)
			}
			return col, fmt.Errorf("%s: %w", name, err)
		}
		col.Files = append(col.Files, name)
	}
	return col, nil
}

// parseShard reads an "I/N" Shard header; "" is the one shard of an
// unsharded run.
func parseShard(s string) (i, n int, err error) {
	if s == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("result block with a bad Shard header %q", s)
	}
	return i, n, nil
}

func phaseRank(p corev1.Pod) int {
	switch p.Status.Phase {
	case corev1.PodSucceeded:
		return 0
	case corev1.PodFailed:
		return 1
	}
	return 2
}

// podState describes how a pod ended: "Failed, exit code 137 OOMKilled".
func podState(p corev1.Pod) string {
	s := string(p.Status.Phase)
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; cs.Name == Container && t != nil {
			s += fmt.Sprintf(", exit code %d", t.ExitCode)
			if t.Reason != "" {
				s += " " + t.Reason
			}
		}
	}
	return s
}

// finished reports whether the Job has ended, well or not.
func finished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func counts(j *batchv1.Job, shards int) string {
	return fmt.Sprintf("%d of %d shards done, %d failed, %d running", j.Status.Succeeded, shards, j.Status.Failed, j.Status.Active)
}

// kubectl runs kubectl for Collect.
type kubectl struct{ cfg CollectConfig }

func (k kubectl) progress(format string, args ...any) {
	if k.cfg.Progress != nil {
		fmt.Fprintf(k.cfg.Progress, format+"\n", args...)
	}
}

func (k kubectl) job(ctx context.Context) (*batchv1.Job, error) {
	var job batchv1.Job
	if err := k.getJSON(ctx, &job, "get", "job", k.cfg.Job, "--output", "json"); err != nil {
		return nil, err
	}
	return &job, nil
}

func (k kubectl) wait(ctx context.Context, job *batchv1.Job, shards int) error {
	poll := cmp.Or(k.cfg.Poll, DefaultPoll)
	deadline := time.Now().Add(k.cfg.Wait)
	t := time.NewTicker(poll)
	defer t.Stop()
	for !finished(job) {
		k.progress("waiting for job %s: %s", k.cfg.Job, counts(job, shards))
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s still running after --wait %v (%s)", k.cfg.Job, k.cfg.Wait, counts(job, shards))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		var err error
		if job, err = k.job(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (k kubectl) getJSON(ctx context.Context, v any, args ...string) error {
	out, err := k.run(ctx, args...)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("kubectl %s: unexpected output: %v", strings.Join(args[:min(3, len(args))], " "), err)
	}
	return nil
}

// run runs kubectl with the namespace and context flags and args, and
// returns its standard output; an error carries the first line kubectl
// wrote on standard error.
func (k kubectl) run(ctx context.Context, args ...string) ([]byte, error) {
	bin := cmp.Or(k.cfg.Kubectl, "kubectl")
	var full []string
	if k.cfg.Context != "" {
		full = append(full, "--context", k.cfg.Context)
	}
	if k.cfg.Namespace != "" {
		full = append(full, "--namespace", k.cfg.Namespace)
	}
	full = append(full, args...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, full...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s not found: install kubectl or give its path with --kubectl", bin)
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("kubectl %s: %s", strings.Join(args[:min(3, len(args))], " "), msg)
	}
	return stdout.Bytes(), nil
}
