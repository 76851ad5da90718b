package packet

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// liveSnapLen is how much of each packet live capture keeps: more than the
// largest frame loopback with GRO hands over.
const liveSnapLen = 262144

// PortFilter returns a classic BPF program for Ethernet frames that accepts
// TCP over IPv4 or IPv6 with one of ports as source or destination, the
// equivalent of tcpdump's "tcp port A or tcp port B", without libpcap's
// compiler. IPv4 fragments other than the first are rejected; so are IPv6
// packets with extension headers before TCP, which are rare.
func PortFilter(ports []uint16) ([]bpf.RawInstruction, error) {
	if len(ports) == 0 || len(ports) > 60 {
		return nil, fmt.Errorf("packet: a port filter takes 1 to 60 ports, not %d", len(ports))
	}
	var a asm
	a.op(bpf.LoadAbsolute{Off: 12, Size: 2})
	a.jeq(etherIPv6, "v6", "")
	a.jeq(etherIPv4, "v4", "reject")

	a.label("v6")
	a.op(bpf.LoadAbsolute{Off: 14 + 6, Size: 1})
	a.jeq(6, "", "reject")
	a.op(bpf.LoadAbsolute{Off: 14 + 40, Size: 2})
	a.ports(ports)
	a.op(bpf.LoadAbsolute{Off: 14 + 42, Size: 2})
	a.ports(ports)
	a.jump("reject")

	a.label("v4")
	a.op(bpf.LoadAbsolute{Off: 14 + 9, Size: 1})
	a.jeq(6, "", "reject")
	a.op(bpf.LoadAbsolute{Off: 14 + 6, Size: 2})
	a.jset(0x1fff, "reject", "")
	a.op(bpf.LoadMemShift{Off: 14})
	a.op(bpf.LoadIndirect{Off: 14, Size: 2})
	a.ports(ports)
	a.op(bpf.LoadIndirect{Off: 16, Size: 2})
	a.ports(ports)

	a.label("reject")
	a.op(bpf.RetConstant{Val: 0})
	a.label("accept")
	a.op(bpf.RetConstant{Val: liveSnapLen})
	return a.assemble()
}

// asm assembles a BPF program with forward jumps to labels.
type asm struct {
	prog   []bpf.Instruction
	jumps  []asmJump
	labels map[string]int
}

// asmJump is a conditional or plain jump whose targets are resolved later.
type asmJump struct {
	at          int
	true, false string // "" means the next instruction
}

func (a *asm) op(i bpf.Instruction) { a.prog = append(a.prog, i) }

func (a *asm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.prog)
}

func (a *asm) jeq(v uint32, t, f string) {
	a.jumps = append(a.jumps, asmJump{at: len(a.prog), true: t, false: f})
	a.op(bpf.JumpIf{Cond: bpf.JumpEqual, Val: v})
}

func (a *asm) jset(v uint32, t, f string) {
	a.jumps = append(a.jumps, asmJump{at: len(a.prog), true: t, false: f})
	a.op(bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: v})
}

func (a *asm) jump(to string) {
	a.jumps = append(a.jumps, asmJump{at: len(a.prog), true: to})
	a.op(bpf.Jump{})
}

// ports accepts the packet if the accumulator is one of ports.
func (a *asm) ports(ports []uint16) {
	for _, p := range ports {
		a.jeq(uint32(p), "accept", "")
	}
}

func (a *asm) assemble() ([]bpf.RawInstruction, error) {
	skip := func(from int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := a.labels[label]
		if !ok || to <= from || to-from-1 > 255 {
			return 0, fmt.Errorf("packet: bad BPF jump to %q", label)
		}
		return uint8(to - from - 1), nil
	}
	for _, j := range a.jumps {
		t, err := skip(j.at, j.true)
		if err != nil {
			return nil, err
		}
		f, err := skip(j.at, j.false)
		if err != nil {
			return nil, err
		}
		switch ins := a.prog[j.at].(type) {
		case bpf.JumpIf:
			ins.SkipTrue, ins.SkipFalse = t, f
			a.prog[j.at] = ins
		case bpf.Jump:
			ins.Skip = uint32(t)
			a.prog[j.at] = ins
		}
	}
	return bpf.Assemble(a.prog)
}
