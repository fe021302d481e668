package throttle

import "net/netip"

// IPKey returns the limiter key for a client address: "ip:" and the
// address. An IPv6 address is widened to its /64, because one IPv6
// subscriber is usually given a whole /64 and could otherwise take a fresh
// key for every guess. IPv4-mapped IPv6 addresses count as IPv4, and zones
// are dropped. The zero Addr (an unknown client) gives "ip:unknown", one
// shared key.
func IPKey(a netip.Addr) string {
	if !a.IsValid() {
		return "ip:unknown"
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		return "ip:" + netip.PrefixFrom(a, 64).Masked().String()
	}
	return "ip:" + a.String()
}
