package watch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/common/expfmt"
)

// accept asks for Prometheus's protobuf format, which carries the native
// histograms, and takes the text format from anything else.
const accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3"

// Scraper reads the shards' /metrics.
type Scraper struct {
	// URLs are the shards' /metrics.
	URLs []string
	// Client makes the requests; nil means one with a 5 s timeout.
	Client *http.Client
}

// Scrape reads every shard at once and merges what they say. A shard that
// cannot be read has its Err set and counts for nothing in the view.
func (s *Scraper) Scrape(ctx context.Context) *View {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	shards := make([]Shard, len(s.URLs))
	var wg sync.WaitGroup
	for i, url := range s.URLs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shards[i] = scrapeOne(ctx, client, url)
		}()
	}
	wg.Wait()
	return Merge(time.Now(), shards)
}

func scrapeOne(ctx context.Context, client *http.Client, url string) Shard {
	sh := Shard{URL: url}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		sh.Err = err
		return sh
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		sh.Err = err
		return sh
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		sh.Err = fmt.Errorf("GET %s: %s", url, resp.Status)
		return sh
	}
	sh.Figures, sh.Runs, sh.Version, sh.Err = Decode(resp.Body, expfmt.ResponseFormat(resp.Header))
	if sh.Err != nil {
		sh.Err = fmt.Errorf("%s: %w", url, sh.Err)
	}
	return sh
}

// Watch scrapes every interval until ctx ends, or until every shard that
// once answered has stopped answering (their runs are over), calling fn
// with each view and the one before (nil the first time). It returns the
// last view in which a shard answered, or the last view.
func (s *Scraper) Watch(ctx context.Context, interval time.Duration, fn func(v, prev *View)) *View {
	var prev, last *View
	seen := false
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		v := s.Scrape(ctx)
		if ctx.Err() != nil {
			return orView(last, prev)
		}
		up := v.Up() > 0
		if seen && !up {
			return orView(last, v)
		}
		seen = seen || up
		if up {
			last = v
		}
		fn(v, prev)
		prev = v
		select {
		case <-ctx.Done():
			return orView(last, prev)
		case <-t.C:
		}
	}
}

func orView(a, b *View) *View {
	if a != nil {
		return a
	}
	return b
}
