package packet_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ampload/amp/bench/import/pcapgen"
	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
)

// BenchmarkImport imports generated 200 MB captures of keep-alive HTTP/1.1
// traffic, the whole path of amp import: reading, decoding, reassembly,
// parsing, session grouping and writing the recording (to io.Discard).
// MB/s is capture bytes per second. "pages" has responses of 16 KB on
// average, "api" of 2 KB (more exchanges per MB).
func BenchmarkImport(b *testing.B) {
	for _, tc := range []struct {
		name string
		mean int
	}{{"pages", 16000}, {"api", 2000}} {
		cfg := pcapgen.DefaultConfig()
		cfg.MeanBody = tc.mean
		path := filepath.Join(b.TempDir(), tc.name+".pcap")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		st, err := pcapgen.Write(f, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(st.Bytes)
			b.ReportAllocs()
			for b.Loop() {
				n := importForBench(b, path)
				if n != st.Exchanges {
					b.Fatalf("%d exchanges imported, %d generated", n, st.Exchanges)
				}
			}
		})
		_ = os.Remove(path)
	}
}

func importForBench(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	src := sourceOf(b, f)
	w, err := capture.NewWriter(io.Discard, capture.FileHeader{Source: "pcap"})
	if err != nil {
		b.Fatal(err)
	}
	g := capture.NewGrouper(capture.GroupConfig{})
	im, err := packet.NewImporter(packet.Config{}, capture.SinkFunc(func(e *capture.Exchange) error {
		g.Assign(e)
		return w.Write(e)
	}))
	if err != nil {
		b.Fatal(err)
	}
	if err := im.Read(context.Background(), src, nil); err != nil {
		b.Fatal(err)
	}
	if err := im.Close(); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return im.Stats().Requests
}
