// Command gen writes a synthetic keep-alive HTTP/1.1 capture for the import
// benchmark (bench/import/run.sh):
//
//	go run ./bench/import/gen -o keepalive.pcap -size 200
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ampload/amp/bench/import/pcapgen"
)

func main() {
	out := flag.String("o", "keepalive.pcap", "capture file to write")
	size := flag.Int64("size", 200, "size in MB")
	seed := flag.Int64("seed", 1, "random seed")
	mean := flag.Int("mean-body", 16000, "mean response body size in bytes")
	flag.Parse()
	cfg := pcapgen.DefaultConfig()
	cfg.Size, cfg.Seed, cfg.MeanBody = *size<<20, *seed, *mean
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	st, err := pcapgen.Write(f, cfg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes, %d packets, %d exchanges, %d connections\n", *out, st.Bytes, st.Packets, st.Exchanges, st.Conns)
}
