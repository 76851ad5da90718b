package packet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"time"

	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

// readTimeout bounds each read of the packet socket, so that a capture
// notices its context ending while no packet arrives.
const readTimeout = 200 * time.Millisecond

// maxDrain bounds the time spent reading what the kernel had queued when the
// capture is stopped.
const maxDrain = 2 * time.Second

// Live is a live capture on a network interface, through gopacket's raw
// AF_PACKET handle: no cgo, no libpcap; it needs root or CAP_NET_RAW.
type Live struct {
	cfg LiveConfig
	h   *pcapgo.EthernetHandle
	dd  *dedup
}

// OpenLive opens the interface and sets the port filter, so that an error
// (no permission, no such interface) shows before anything else is done.
func OpenLive(cfg LiveConfig) (*Live, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ifc, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", cfg.Interface, unwrapNet(err))
	}
	h, err := pcapgo.NewEthernetHandle(cfg.Interface)
	if err != nil {
		if strings.Contains(err.Error(), "operation not permitted") {
			return nil, fmt.Errorf("opening a packet socket on %s needs root or CAP_NET_RAW (%v)", cfg.Interface, err)
		}
		return nil, fmt.Errorf("opening %s: %v", cfg.Interface, err)
	}
	l := &Live{cfg: cfg, h: h}
	if ifc.Flags&net.FlagLoopback != 0 {
		l.dd = newDedup()
	}
	if err := l.setup(); err != nil {
		h.Close()
		return nil, err
	}
	return l, nil
}

func (l *Live) setup() error {
	if err := l.h.SetCaptureLength(liveSnapLen); err != nil {
		return err
	}
	if len(l.cfg.Ports) > 0 {
		prog, err := PortFilter(l.cfg.Ports)
		if err != nil {
			return err
		}
		if err := l.h.SetBPF(prog); err != nil {
			return fmt.Errorf("setting the port filter on %s: %v", l.cfg.Interface, err)
		}
	}
	return setReadTimeout(l.h, readTimeout)
}

// Close closes the capture.
func (l *Live) Close() error {
	l.h.Close()
	return nil
}

// Run imports the interface's packets into im until ctx ends; then it reads
// what the kernel had already queued and returns. It does not close im:
// Close it to flush what connections still hold. progress, if not nil, is
// called about every 200 ms from Run's goroutine. On a loopback interface,
// where the socket sees every packet twice, the second copy is dropped.
func (l *Live) Run(ctx context.Context, im *Importer, progress func(LiveStats)) (LiveStats, error) {
	var st LiveStats
	lastProgress := time.Now()
	var drainUntil time.Time
	for {
		if drainUntil.IsZero() && ctx.Err() != nil {
			drainUntil = time.Now().Add(maxDrain)
		}
		data, ci, err := l.h.ZeroCopyReadPacketData()
		now := time.Now()
		if err != nil {
			if !isTimeout(err) {
				return st, fmt.Errorf("reading from %s: %v", l.cfg.Interface, err)
			}
			if !drainUntil.IsZero() {
				break // nothing more queued
			}
			im.tick(now) // let idle connections time out on the wall clock
		} else if l.dd == nil || !l.dd.seen(data, ci.Timestamp) {
			if err := im.AddPacket(data, ci, LinkEthernet); err != nil {
				return st, err
			}
		} else {
			st.Duplicates++
		}
		if !drainUntil.IsZero() && now.After(drainUntil) {
			break
		}
		if progress != nil && now.Sub(lastProgress) >= readTimeout {
			lastProgress = now
			st.KernelDrops += kernelDrops(l.h)
			progress(st)
		}
	}
	st.KernelDrops += kernelDrops(l.h)
	return st, nil
}

// setReadTimeout sets SO_RCVTIMEO on the handle's socket. pcapgo does not
// export the descriptor, so it is read with reflection (gopacket v1.1.19's
// EthernetHandle.fd); without it a read would block until a packet comes.
func setReadTimeout(h *pcapgo.EthernetHandle, d time.Duration) error {
	v := reflect.ValueOf(h).Elem().FieldByName("fd")
	if !v.IsValid() || v.Kind() != reflect.Int {
		return errors.New("cannot set a read timeout: gopacket's EthernetHandle changed (no fd field)")
	}
	tv := unix.NsecToTimeval(d.Nanoseconds())
	if err := unix.SetsockoptTimeval(int(v.Int()), unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("setting a read timeout: %v", err)
	}
	return nil
}

// isTimeout recognises the read timeout (and an interrupted read) in
// pcapgo's error, which only carries the errno's text.
func isTimeout(err error) bool {
	s := err.Error()
	return strings.Contains(s, unix.EAGAIN.Error()) || strings.Contains(s, unix.EINTR.Error())
}

// kernelDrops returns the packets the kernel dropped since the last call.
func kernelDrops(h *pcapgo.EthernetHandle) int64 {
	s, err := h.Stats()
	if err != nil {
		return 0
	}
	return int64(s.Drops)
}

// unwrapNet drops the "route ip+net:" prefix of net's interface errors.
func unwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
