package replay

import (
	"net"
	"strconv"
	"strings"
)

// validHostPort reports whether s is host:port with a numeric port.
func validHostPort(s string) bool {
	h, p, err := net.SplitHostPort(s)
	if err != nil || h == "" {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// mapHost returns the recorded host an --map rule "OLDHOST=URL" maps, lower
// case, without a scheme or path.
func mapHost(old string) string {
	if h := hostOf(old); h != "" {
		old = h
	}
	return strings.ToLower(old)
}

// UnmatchedMaps returns the host mappings whose host the plan's recording
// does not hold: they map nothing, which is usually a typo worth a warning.
func UnmatchedMaps(p *Plan, maps []HostMap) []HostMap {
	var out []HostMap
	for _, m := range maps {
		if p.Hosts[mapHost(m.From)] == 0 {
			out = append(out, m)
		}
	}
	return out
}
