// Command garbage is a target for bench/replay/garbage.sh: it listens on
// 127.0.0.1 (port -port, 0 = any), prints its address, and answers every
// request with a different line of random bytes, never HTTP.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
)

func main() {
	port := flag.Int("port", 0, "port on 127.0.0.1")
	flag.Parse()
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", *port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr())
	for i := uint64(0); ; i++ {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c, i)
	}
}

func serve(c net.Conn, seed uint64) {
	defer c.Close()
	rng := rand.New(rand.NewPCG(seed, 1))
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
		junk := make([]byte, 20+rng.IntN(200))
		for j := range junk {
			junk[j] = byte(rng.UintN(256))
		}
		if _, err := c.Write(append(junk, "\r\n\r\n"...)); err != nil {
			return
		}
	}
}
