package packet_test

import (
	"fmt"
	"net"
	"time"

	"github.com/ampload/amp/capture"
	"github.com/ampload/amp/capture/packet"
	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// An Importer fed packet by packet, as a capture file's reader or a live
// capture would: a request and its response on a connection whose SYN the
// capture missed.
func ExampleImporter() {
	im, err := packet.NewImporter(packet.Config{}, capture.SinkFunc(func(e *capture.Exchange) error {
		fmt.Println(e.Client, e.Request.Method, e.Request.URL, e.Response.Status, string(e.Response.Body), e.TTFB)
		return nil
	}))
	if err != nil {
		fmt.Println(err)
		return
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	frame := func(fromClient bool, seq, ack uint32, payload string) []byte {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: net.IPv4(10, 0, 0, 1), DstIP: net.IPv4(10, 0, 0, 2)}
		tcp := &layers.TCP{SrcPort: 40000, DstPort: 8080, Seq: seq, Ack: ack, ACK: true, PSH: true, Window: 65535}
		if !fromClient {
			ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
			tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
		}
		_ = tcp.SetNetworkLayerForChecksum(ip)
		buf := gopacket.NewSerializeBuffer()
		_ = gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ip, tcp, gopacket.Payload(payload))
		return buf.Bytes()
	}
	req := "GET /cart HTTP/1.1\r\nHost: shop.test:8080\r\n\r\n"
	resp := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
	packets := [][]byte{frame(true, 100, 900, req), frame(false, 900, 100+uint32(len(req)), resp)}
	for i, data := range packets {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * 3 * time.Millisecond), CaptureLength: len(data), Length: len(data)}
		if err := im.AddPacket(data, ci, packet.LinkRaw); err != nil {
			fmt.Println(err)
		}
	}
	if err := im.Close(); err != nil {
		fmt.Println(err)
	}
	st := im.Stats()
	fmt.Printf("%d packets, %d pairs\n", st.Packets, st.Pairs)
	// Output:
	// 10.0.0.1:40000 GET http://shop.test:8080/cart 200 hello 3ms
	// 2 packets, 1 pairs
}
