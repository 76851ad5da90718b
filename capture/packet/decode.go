package packet

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// LinkType is a capture's link-layer header type (a LINKTYPE_* number from
// tcpdump.org). It is 32 bits wide: gopacket's layers.LinkType is 8 bits and
// cannot hold LINKTYPE_LINUX_SLL2 (276).
type LinkType uint32

// The link types Importer decodes.
const (
	LinkNull      LinkType = 0   // BSD loopback: 4-byte address family in host byte order
	LinkEthernet  LinkType = 1   // Ethernet II, with 802.1Q/802.1ad VLAN tags
	LinkRawAlt    LinkType = 12  // raw IP on some BSDs (DLT_RAW)
	LinkRawAlt2   LinkType = 14  // raw IP on OpenBSD (DLT_RAW)
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6
	LinkLoop      LinkType = 108 // OpenBSD loopback: family in network byte order
	LinkLinuxSLL  LinkType = 113 // Linux cooked capture v1 (tcpdump -i any, older libpcap)
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkLinuxSLL2 LinkType = 276 // Linux cooked capture v2 (tcpdump -i any today)
)

// String names the link type as tcpdump does.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "NULL"
	case LinkEthernet:
		return "EN10MB"
	case LinkRaw, LinkRawAlt, LinkRawAlt2:
		return "RAW"
	case LinkLoop:
		return "LOOP"
	case LinkLinuxSLL:
		return "LINUX_SLL"
	case LinkIPv4:
		return "IPV4"
	case LinkIPv6:
		return "IPV6"
	case LinkLinuxSLL2:
		return "LINUX_SLL2"
	}
	return fmt.Sprintf("LINKTYPE_%d", uint32(l))
}

// Supported reports whether Importer can decode packets of this link type.
func (l LinkType) Supported() bool {
	switch l {
	case LinkNull, LinkEthernet, LinkRaw, LinkRawAlt, LinkRawAlt2, LinkLoop, LinkLinuxSLL, LinkIPv4, LinkIPv6, LinkLinuxSLL2:
		return true
	}
	return false
}

// Ethernet types (and SLL protocol values) that lead to IP.
const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
)

// decodeResult says what a packet turned out to be.
type decodeResult uint8

const (
	resultTCP       decodeResult = iota // a TCP segment: use the decoder's fields
	resultOther                         // not TCP over IP (ARP, UDP, ICMP, ...)
	resultFragment                      // an IP fragment (not reassembled)
	resultMalformed                     // headers that do not decode
	resultShort                         // cut by the snap length before the TCP payload
	resultLinkType                      // a link type that is not supported
)

// decoder turns link-layer frames into TCP segments without allocating. Its
// fields are valid until the next decode.
type decoder struct {
	tcp layers.TCP
	// netFlow is the IP source and destination of the last TCP segment;
	// src and dst the raw addresses (pointing into the packet).
	netFlow  gopacket.Flow
	src, dst []byte
	v6       bool
	// missing is how many bytes of the TCP payload the capture cut off
	// (snap length); 0 for a whole packet.
	missing int
}

// decode decodes one frame of the given link type.
func (d *decoder) decode(data []byte, link LinkType) decodeResult {
	var etype uint16
	switch link {
	case LinkEthernet:
		if len(data) < 14 {
			return resultShort
		}
		etype, data = binary.BigEndian.Uint16(data[12:14]), data[14:]
	case LinkLinuxSLL:
		// packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
		if len(data) < 16 {
			return resultShort
		}
		etype, data = binary.BigEndian.Uint16(data[14:16]), data[16:]
	case LinkLinuxSLL2:
		// protocol(2) reserved(2) interface index(4) ARPHRD(2) packet type(1)
		// address length(1) address(8)
		if len(data) < 20 {
			return resultShort
		}
		etype, data = binary.BigEndian.Uint16(data[0:2]), data[20:]
	case LinkNull, LinkLoop:
		if len(data) < 4 {
			return resultShort
		}
		// The family is in the writer's byte order for NULL and big endian for
		// LOOP; small values make the order obvious either way.
		fam := binary.LittleEndian.Uint32(data[0:4])
		if fam > 0xffff {
			fam = binary.BigEndian.Uint32(data[0:4])
		}
		data = data[4:]
		switch fam {
		case 2:
			etype = etherIPv4
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
			etype = etherIPv6
		default:
			return resultOther
		}
	case LinkRaw, LinkRawAlt, LinkRawAlt2, LinkIPv4, LinkIPv6:
		if len(data) < 1 {
			return resultShort
		}
		switch data[0] >> 4 {
		case 4:
			etype = etherIPv4
		case 6:
			etype = etherIPv6
		default:
			return resultMalformed
		}
	default:
		return resultLinkType
	}
	for etype == etherVLAN || etype == etherQinQ || etype == etherQinQ2 {
		if len(data) < 4 {
			return resultShort
		}
		etype, data = binary.BigEndian.Uint16(data[2:4]), data[4:]
	}
	switch etype {
	case etherIPv4:
		return d.ipv4(data)
	case etherIPv6:
		return d.ipv6(data)
	}
	return resultOther
}

// ipv4 decodes an IPv4 header and what follows.
func (d *decoder) ipv4(data []byte) decodeResult {
	if len(data) < 20 {
		return resultShort
	}
	if data[0]>>4 != 4 {
		return resultMalformed
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < 20 {
		return resultMalformed
	}
	if len(data) < ihl {
		return resultShort
	}
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		total = len(data) // TCP segmentation offload on the capturing host
	}
	if total < ihl {
		return resultMalformed
	}
	if binary.BigEndian.Uint16(data[6:8])&0x3fff != 0 {
		return resultFragment // more-fragments flag or an offset
	}
	if data[9] != 6 {
		return resultOther
	}
	d.src, d.dst, d.v6 = data[12:16], data[16:20], false
	d.netFlow = gopacket.NewFlow(layers.EndpointIPv4, d.src, d.dst)
	return d.tcpSegment(data[ihl:], total-ihl)
}

// ipv6 decodes an IPv6 header, skips extension headers and decodes TCP.
func (d *decoder) ipv6(data []byte) decodeResult {
	if len(data) < 40 {
		return resultShort
	}
	if data[0]>>4 != 6 {
		return resultMalformed
	}
	length := int(binary.BigEndian.Uint16(data[4:6]))
	if length == 0 {
		length = len(data) - 40 // jumbogram or segmentation offload
	}
	next := data[6]
	d.src, d.dst, d.v6 = data[8:24], data[24:40], true
	d.netFlow = gopacket.NewFlow(layers.EndpointIPv6, d.src, d.dst)
	data = data[40:]
	for {
		switch next {
		case 6:
			return d.tcpSegment(data, length)
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(data) < 8 {
				return resultShort
			}
			n := (int(data[1]) + 1) * 8
			if len(data) < n || length < n {
				return resultShort
			}
			next, data, length = data[0], data[n:], length-n
		case 51: // authentication header
			if len(data) < 8 {
				return resultShort
			}
			n := (int(data[1]) + 2) * 4
			if len(data) < n || length < n {
				return resultShort
			}
			next, data, length = data[0], data[n:], length-n
		case 44:
			return resultFragment
		default:
			return resultOther
		}
	}
}

// tcpSegment decodes the TCP header in data, of which the IP header says
// length bytes were sent.
func (d *decoder) tcpSegment(data []byte, length int) decodeResult {
	if len(data) < 20 {
		return resultShort
	}
	if off := int(data[12]>>4) * 4; off > len(data) {
		return resultShort
	}
	if length < len(data) {
		data = data[:length] // Ethernet padding, FCS
	}
	if err := d.tcp.DecodeFromBytes(data, gopacket.NilDecodeFeedback); err != nil {
		return resultMalformed
	}
	d.missing = length - len(data)
	return resultTCP
}

// tupleKey names a TCP connection regardless of direction.
type tupleKey struct {
	a, b   [16]byte
	pa, pb uint16
	v6     bool
}

// tuple returns the key of the last TCP segment's connection.
func (d *decoder) tuple() tupleKey {
	k := tupleKey{pa: uint16(d.tcp.SrcPort), pb: uint16(d.tcp.DstPort), v6: d.v6}
	copy(k.a[:], d.src)
	copy(k.b[:], d.dst)
	if c := bytes.Compare(k.a[:], k.b[:]); c > 0 || c == 0 && k.pa > k.pb {
		k.a, k.b, k.pa, k.pb = k.b, k.a, k.pb, k.pa
	}
	return k
}

// genEndpointBase is where the endpoint types of reused connections start.
// A connection that reuses the address and ports of one the reassembler still
// holds gets its own flow of type genEndpointBase+generation, so the two are
// reassembled apart. (The types are only compared, never registered.)
const genEndpointBase = 0x4000

// flowGen returns the network flow of the last segment in generation g.
func (d *decoder) flowGen(g int) gopacket.Flow {
	return gopacket.NewFlow(gopacket.EndpointType(genEndpointBase+g), d.src, d.dst)
}
