package clientip

import (
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzClientIP checks what ClientIP may return, whatever the peer, the
// header and the trusted list: the peer's own address; or, only if the peer
// is trusted, an address written literally in X-Forwarded-For, reached
// within MaxHops elements from the right through trusted hops only. With no
// trusted proxies it is always the peer's address. The header argument is
// split on "\n" into header lines.
func FuzzClientIP(f *testing.F) {
	for _, s := range []struct{ remote, xff, trusted string }{
		{remote: "203.0.113.9:5555", xff: "1.2.3.4", trusted: ""},
		{remote: "10.0.0.1:1", xff: "1.1.1.1, 203.0.113.7, 10.0.0.2", trusted: "10.0.0.0/8"},
		{remote: "10.0.0.1:1", xff: "203.0.113.7, unknown, 10.0.0.2", trusted: "10.0.0.0/8"},
		{remote: "[::1]:443", xff: "[2001:db8::7]:51234,\t[2001:db8::8]", trusted: "::1"},
		{remote: "[::ffff:10.0.0.1]:80", xff: "::ffff:203.0.113.7", trusted: "::ffff:10.0.0.0/104"},
		{remote: "10.0.0.1:1", xff: "203.0.113.7\n10.0.0.3\n", trusted: "10.0.0.0/8, ::1"},
		{remote: "[fe80::1%eth0]:1", xff: "[fe80::2%x]:2, fe80::3%y", trusted: "fe80::/10"},
		{remote: "10.0.0.1", xff: ",,,, 10.0.0.2 ,", trusted: "0.0.0.0/0"},
	} {
		f.Add(s.remote, s.xff, s.trusted)
	}
	f.Fuzz(func(t *testing.T, remote, xff, trusted string) {
		lines := strings.Split(xff, "\n")
		req := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": lines}}
		peers := literal(remote)
		got := New(nil).ClientIP(req)
		switch {
		case got.IsValid() && !slices.Contains(peers, got):
			t.Fatalf("no trusted proxies: ClientIP(%q) = %v, want one of %v", remote, got, peers)
		case !got.IsValid() && len(peers) > 0 && len(remote) <= maxHopLen:
			t.Fatalf("no trusted proxies: ClientIP(%q) = %v, want one of %v", remote, got, peers)
		}
		peer := got

		prefixes, err := ParseTrusted(trusted)
		if err != nil {
			return
		}
		r := New(prefixes)
		got = r.ClientIP(req)
		if got == peer {
			return
		}
		if !peer.IsValid() || !r.trusts(peer) {
			t.Fatalf("ClientIP(%q, XFF %q) = %v, but the peer %v is not trusted (%v): want %v", remote, lines, got, peer, prefixes, peer)
		}
		// Elements from the right: the answer must be one of them, and
		// every non-empty element right of it must be a trusted address.
		var elems []string
		for i := len(lines) - 1; i >= 0; i-- {
			parts := strings.Split(lines[i], ",")
			for j := len(parts) - 1; j >= 0; j-- {
				elems = append(elems, strings.Trim(parts[j], " \t"))
			}
		}
		for _, e := range elems[:min(len(elems), MaxHops)] {
			if slices.Contains(literal(e), got) {
				return
			}
			if e != "" && !slices.ContainsFunc(literal(e), r.trusts) {
				break // an untrusted or malformed hop: nothing further left may be the answer
			}
		}
		t.Fatalf("ClientIP(%q, XFF %q) with trusted %v = %v, which is not reachable through trusted hops", remote, lines, prefixes, got)
	})
}

// literal returns every address s can stand for as written in RemoteAddr
// or an X-Forwarded-For element, unmapped and without zone: a bare address,
// an IPv4 address with a port, or an IPv6 address in brackets with or
// without a port. It is written apart from parseHop, to check it.
func literal(s string) []netip.Addr {
	var out []netip.Addr
	add := func(host string, v6 bool) {
		if a, err := netip.ParseAddr(host); err == nil && (!v6 || a.Is6()) {
			out = append(out, a.Unmap().WithZone(""))
		}
	}
	add(s, false)
	if inner, ok := brackets(s); ok {
		add(inner, true)
	}
	for i := range len(s) {
		if s[i] != ':' {
			continue
		}
		host, port := s[:i], s[i+1:]
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			continue
		}
		if inner, ok := brackets(host); ok {
			add(inner, true)
		} else if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
			out = append(out, a)
		}
	}
	return out
}

func brackets(s string) (string, bool) {
	if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// FuzzParseTrusted checks that whatever ParseTrusted accepts is canonical
// and survives a round trip: rendering the prefixes with String and parsing
// again gives the same prefixes. Whatever it rejects, the error names one of
// the entries.
func FuzzParseTrusted(f *testing.F) {
	for _, s := range []string{
		"", "10.0.0.0/8, 127.0.0.1, ::1", "10.1.2.3/8", "::ffff:10.0.0.0/104", "::ffff:1.2.3.4",
		"fe80::1%eth0", "2001:db8::/32,,fd00::1/8", "0.0.0.0/0, ::/0", "10.0.0.0/33", "1.2.3.4 ,\t5.6.7.8\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseTrusted(s)
		if err != nil {
			named := false
			for e := range strings.SplitSeq(s, ",") {
				named = named || strings.Contains(err.Error(), strconv.Quote(strings.TrimSpace(e)))
			}
			if !named {
				t.Fatalf("ParseTrusted(%q) error %q names no entry", s, err)
			}
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || (p.Addr().Is4In6() && p.Bits() >= 96) {
				t.Fatalf("ParseTrusted(%q) gave %v: not a valid, masked, unmapped prefix", s, p)
			}
		}
		again, err := ParseTrusted(join(ps))
		if err != nil || !slices.Equal(again, ps) {
			t.Fatalf("ParseTrusted(%q) = %v; parsing %q again = %v, %v; want the same, nil", s, ps, join(ps), again, err)
		}
	})
}
