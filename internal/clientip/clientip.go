// Package clientip finds the address of the client behind trusted reverse
// proxies, for rate limits and audit logs.
//
// Forwarding headers are written by whoever sends the request, so they are
// believed only as far as they were written by a proxy we trust: a Resolver
// starts at the TCP peer (RemoteAddr) and walks X-Forwarded-For from the
// right, one hop per trusted proxy, and stops at the first address it does
// not trust. Everything left of that point was supplied by the client and is
// never used. With no trusted proxies, forwarding headers are ignored
// entirely.
//
// Only X-Forwarded-For is read. nginx ($proxy_add_x_forwarded_for),
// Traefik, Caddy, HAProxy and cloud load balancers all append to it, and
// each trusted proxy must append (or overwrite), never pass a client's
// header through unchanged. Forwarded (RFC 7239) and X-Real-IP are ignored
// on purpose: a resolver that reads two headers can be fooled through the
// one the proxy does not manage, and Forwarded's quoted-string syntax adds
// parsing risk for no gain here.
package clientip

import (
	"fmt"
	"iter"
	"net/http"
	"net/netip"
	"strings"
)

// MaxHops is how many X-Forwarded-For elements ClientIP reads at most,
// counted from the right and including empty ones, so a huge header costs
// bounded work. No real deployment has more than a handful of proxies.
const MaxHops = 64

// maxHopLen bounds one element: the longest address literal with brackets,
// a zone and a port is well under it, and anything longer is not parsed.
const maxHopLen = 100

// Resolver finds client addresses given the set of trusted proxies. It is
// immutable and safe for concurrent use. A nil *Resolver trusts no one.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that trusts the proxies in trusted (which it
// copies). IPv4-mapped IPv6 prefixes are treated as IPv4, since ClientIP
// compares unmapped addresses; invalid prefixes are ignored.
//
// Trust only the addresses of your own proxies. A trusted range that also
// holds clients lets those clients choose their address (they can send an
// X-Forwarded-For of their own), and 0.0.0.0/0 or ::/0 lets every client do
// so.
func New(trusted []netip.Prefix) *Resolver {
	r := &Resolver{}
	for _, p := range trusted {
		if p, ok := normalizePrefix(p); ok {
			r.trusted = append(r.trusted, p)
		}
	}
	return r
}

// ClientIP returns the address of the client that sent req: RemoteAddr if
// that peer is not a trusted proxy; otherwise the first untrusted address in
// X-Forwarded-For counting from the right (all header lines in order, as
// one comma-separated list). Ports and IPv6 zones are dropped and
// IPv4-mapped addresses are unmapped.
//
// When the walk cannot go on, the result is the last address it reached,
// which is always one a trusted proxy vouched for: the leftmost element if
// every hop is trusted, the hop right of a malformed element (that host sent
// us the garbage, and nothing to its left can be believed), or the hop where
// MaxHops ran out. The result is the zero Addr only if RemoteAddr is not an
// IP address (for example on a Unix socket listener).
func (r *Resolver) ClientIP(req *http.Request) netip.Addr {
	addr, ok := parseHop(req.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if r == nil || len(r.trusted) == 0 {
		return addr
	}
	n := 0
	for elem := range fromRight(req.Header.Values("X-Forwarded-For")) {
		if !r.trusts(addr) || n == MaxHops {
			break
		}
		n++
		elem = strings.Trim(elem, " \t")
		if elem == "" {
			continue // empty list elements are allowed (RFC 9110, 5.6.1)
		}
		hop, ok := parseHop(elem)
		if !ok {
			break
		}
		addr = hop
	}
	return addr
}

// trusts reports whether a is one of the trusted proxies.
func (r *Resolver) trusts(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// fromRight yields the comma-separated elements of lines, the last element
// of the last line first. It allocates nothing, and stopping early leaves
// the rest of the lines unread.
func fromRight(lines []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := len(lines) - 1; i >= 0; i-- {
			line := lines[i]
			for {
				j := strings.LastIndexByte(line, ',')
				if !yield(line[j+1:]) {
					return
				}
				if j < 0 {
					break
				}
				line = line[:j]
			}
		}
	}
}

// parseHop parses an address as proxies write it: "203.0.113.7",
// "203.0.113.7:443", "2001:db8::7", "[2001:db8::7]" or "[2001:db8::7]:443".
// It returns the address unmapped and without zone.
func parseHop(s string) (netip.Addr, bool) {
	if len(s) > maxHopLen {
		return netip.Addr{}, false
	}
	var a netip.Addr
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a = ap.Addr()
	} else {
		bracketed := len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']'
		if bracketed {
			s = s[1 : len(s)-1]
		}
		// Brackets are for IPv6 only, as ParseAddrPort has it.
		if a, err = netip.ParseAddr(s); err != nil || (bracketed && !a.Is6()) {
			return netip.Addr{}, false
		}
	}
	return a.Unmap().WithZone(""), true
}

// ParseTrusted parses a comma-separated list of trusted proxies, each an IP
// address or a CIDR prefix, as the --trusted-proxies flag takes it:
// "10.0.0.0/8, 127.0.0.1, ::1". A single address becomes a /32 or /128,
// host bits after a prefix length are cleared ("10.1.2.3/8" is
// 10.0.0.0/8), and IPv4-mapped IPv6 entries become IPv4. Empty entries are
// ignored, so "" is no trusted proxies. The error names the first bad entry.
func ParseTrusted(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for entry := range strings.SplitSeq(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		p, err := parseTrusted(entry)
		if err != nil {
			return nil, fmt.Errorf("clientip: bad trusted proxy %q: %w", entry, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseTrusted(entry string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(entry, "/") {
		var err error
		if p, err = netip.ParsePrefix(entry); err != nil {
			return p, err
		}
	} else {
		a, err := netip.ParseAddr(entry)
		if err != nil {
			return p, err
		}
		if a.Zone() != "" {
			return p, fmt.Errorf("an IPv6 zone is not allowed")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p, _ = normalizePrefix(p) // valid: parsed above
	return p, nil
}

// normalizePrefix masks p and turns an IPv4-mapped prefix (::ffff:a.b.c.d/n,
// n ≥ 96) into the IPv4 prefix it stands for.
func normalizePrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	a, bits := p.Addr().WithZone(""), p.Bits()
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	return netip.PrefixFrom(a, bits).Masked(), true
}

// FromTrustedProxy reports whether req's immediate peer is a trusted proxy,
// so that other forwarded headers it sets (X-Forwarded-Host, -Proto, -Uri)
// may be believed.
func (r *Resolver) FromTrustedProxy(req *http.Request) bool {
	addr, ok := parseHop(req.RemoteAddr)
	return ok && r != nil && r.trusts(addr)
}
