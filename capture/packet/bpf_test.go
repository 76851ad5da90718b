package packet_test

import (
	"testing"

	"github.com/ampload/amp/capture/packet"
	"golang.org/x/net/bpf"
)

// TestPortFilter runs the generated BPF program in x/net/bpf's VM on
// Ethernet frames.
func TestPortFilter(t *testing.T) {
	prog, err := packet.PortFilter([]uint16{5000, 8080})
	if err != nil {
		t.Fatal(err)
	}
	insts, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatal("cannot disassemble")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatal(err)
	}
	frame := func(client, server string) []byte {
		b := newBuilder(t, packet.LinkEthernet)
		c := b.conn(client, server)
		c.send(true, "GET / HTTP/1.1\r\n\r\n")
		return b.frames[0].data
	}
	tests := []struct {
		name   string
		data   []byte
		accept bool
	}{
		{"IPv4 to 5000", frame("10.0.0.1:40000", "10.0.0.2:5000"), true},
		{"IPv4 from 8080", frame("10.0.0.2:8080", "10.0.0.1:40000"), true},
		{"IPv4 to 80", frame("10.0.0.1:40000", "10.0.0.2:80"), false},
		{"IPv6 to 5000", frame("[::1]:40000", "[::1]:5000"), true},
		{"IPv6 to 80", frame("[::1]:40000", "[::1]:80"), false},
	}
	// An IPv4 fragment (offset 8) to port 5000, and UDP to port 5000.
	frag := append([]byte(nil), tests[0].data...)
	frag[14+7] = 1
	udp := append([]byte(nil), tests[0].data...)
	udp[14+9] = 17
	tests = append(tests, struct {
		name   string
		data   []byte
		accept bool
	}{"IPv4 fragment", frag, false}, struct {
		name   string
		data   []byte
		accept bool
	}{"UDP", udp, false})
	for _, tc := range tests {
		n, err := vm.Run(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (n > 0) != tc.accept {
			t.Errorf("%s: filter returned %d, want accept=%v", tc.name, n, tc.accept)
		}
	}
	if _, err := packet.PortFilter(nil); err == nil {
		t.Error("empty port list accepted")
	}
}
