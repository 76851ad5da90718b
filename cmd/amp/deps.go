package main
import (
 _ "github.com/google/gopacket/pcapgo"
 _ "github.com/google/gopacket/reassembly"
 _ "github.com/elazarl/goproxy"
 _ "github.com/vmihailenco/msgpack/v5"
 _ "github.com/urfave/cli/v2"
)
func main(){}
