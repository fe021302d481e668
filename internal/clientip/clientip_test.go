package clientip

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	many := func(n int, elem string) string { return strings.TrimSuffix(strings.Repeat(elem+", ", n), ", ") }
	tests := []struct {
		name      string
		trusted   string
		remote    string
		xff       []string // one element per header line
		forwarded string
		want      string // "" for the zero Addr
	}{
		{name: "no trusted proxies ignores a spoofed header", remote: "203.0.113.9:5555", xff: []string{"1.2.3.4"}, want: "203.0.113.9"},
		{name: "untrusted peer's header is ignored", trusted: "10.0.0.0/8", remote: "198.51.100.1:1", xff: []string{"1.2.3.4"}, want: "198.51.100.1"},
		{name: "trusted proxy without header", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", want: "10.0.0.1"},
		{name: "trusted proxy, one hop", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "client's own entries are left of its address", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"1.1.1.1, 10.9.9.9, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "several trusted hops", trusted: "10.0.0.0/8, 192.168.0.0/16", remote: "10.0.0.1:1", xff: []string{"6.6.6.6, 203.0.113.7, 192.168.1.1, 10.0.0.2"}, want: "203.0.113.7"},
		{name: "untrusted hop in the middle stops the walk", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7, 198.51.100.2, 10.0.0.2"}, want: "198.51.100.2"},
		{name: "every hop trusted gives the leftmost", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
		{name: "malformed rightmost element gives the proxy", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7, garbage"}, want: "10.0.0.1"},
		{name: "malformed element gives the hop right of it", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7, unknown, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "malformed element left of the client is never read", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"<script>, 203.0.113.7"}, want: "203.0.113.7"},
		{name: "empty elements are skipped", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{" , 203.0.113.7 ,\t, "}, want: "203.0.113.7"},
		{name: "IPv4 with port", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7:51234"}, want: "203.0.113.7"},
		{name: "IPv4 in brackets is malformed", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"[203.0.113.7]:80"}, want: "10.0.0.1"},
		{name: "bad port is malformed", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7:99999"}, want: "10.0.0.1"},
		{name: "IPv6 peer with brackets and port", trusted: "::1", remote: "[::1]:443", xff: []string{"2001:db8::7"}, want: "2001:db8::7"},
		{name: "IPv6 element with brackets and port", trusted: "::1", remote: "[::1]:443", xff: []string{"[2001:db8::7]:51234"}, want: "2001:db8::7"},
		{name: "IPv6 element with brackets only", trusted: "::1", remote: "[::1]:443", xff: []string{"[2001:db8::7]"}, want: "2001:db8::7"},
		{name: "IPv6 zone dropped", remote: "[fe80::1%eth0]:443", want: "fe80::1"},
		{name: "zoned trusted peer", trusted: "fe80::/10", remote: "[fe80::1%eth0]:443", xff: []string{"[2001:db8::7%x]:1"}, want: "2001:db8::7"},
		{name: "mapped peer matches an IPv4 prefix", trusted: "10.0.0.0/8", remote: "[::ffff:10.0.0.1]:80", xff: []string{"::ffff:203.0.113.7"}, want: "203.0.113.7"},
		{name: "mapped prefix matches an IPv4 peer", trusted: "::ffff:10.0.0.0/104", remote: "10.0.0.1:80", xff: []string{"[::ffff:203.0.113.7]:9"}, want: "203.0.113.7"},
		{name: "mapped address without trusted proxies", remote: "[::ffff:203.0.113.9]:80", want: "203.0.113.9"},
		{name: "header lines read as one list", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"1.1.1.1, 203.0.113.7", "10.0.0.3"}, want: "203.0.113.7"},
		{name: "last header line is the rightmost", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7", "198.51.100.2"}, want: "198.51.100.2"},
		{name: "empty header line", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7", ""}, want: "203.0.113.7"},
		{name: "walk stops after MaxHops", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7, " + many(MaxHops-1, "10.0.0.2") + ", 10.0.0.3"}, want: "10.0.0.2"},
		{name: "MaxHops elements are enough", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7, " + many(MaxHops-1, "10.0.0.2")}, want: "203.0.113.7"},
		{name: "huge chain of empty lines", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: append([]string{"203.0.113.7"}, make([]string, 10000)...), want: "10.0.0.1"},
		{name: "huge header of commas", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7" + strings.Repeat(",", 1<<20)}, want: "10.0.0.1"},
		{name: "huge element", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", xff: []string{"203.0.113.7, " + strings.Repeat("1", 1<<20)}, want: "10.0.0.1"},
		{name: "trusting everyone believes the leftmost", trusted: "0.0.0.0/0, ::/0", remote: "10.0.0.1:1", xff: []string{"6.6.6.6, 203.0.113.7"}, want: "6.6.6.6"},
		{name: "Forwarded is not read", trusted: "10.0.0.0/8", remote: "10.0.0.1:1", forwarded: "for=203.0.113.7", want: "10.0.0.1"},
		{name: "RemoteAddr without port", trusted: "10.0.0.0/8", remote: "10.0.0.1", xff: []string{"203.0.113.7"}, want: "203.0.113.7"},
		{name: "RemoteAddr not an address", trusted: "10.0.0.0/8", remote: "@", xff: []string{"203.0.113.7"}, want: ""},
		{name: "empty RemoteAddr", remote: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trusted, err := ParseTrusted(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			req := &http.Request{RemoteAddr: tt.remote, Header: http.Header{}}
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if tt.forwarded != "" {
				req.Header.Set("Forwarded", tt.forwarded)
			}
			var want netip.Addr
			if tt.want != "" {
				want = netip.MustParseAddr(tt.want)
			}
			if got := New(trusted).ClientIP(req); got != want {
				t.Errorf("ClientIP(%q, XFF %.80q) = %v, want %v", tt.remote, tt.xff, got, want)
			}
		})
	}
}

func TestNilResolver(t *testing.T) {
	req := &http.Request{RemoteAddr: "10.0.0.1:1", Header: http.Header{"X-Forwarded-For": {"203.0.113.7"}}}
	if got, want := (*Resolver)(nil).ClientIP(req), netip.MustParseAddr("10.0.0.1"); got != want {
		t.Errorf("nil Resolver ClientIP = %v, want %v", got, want)
	}
}

func TestNewCopiesAndNormalizes(t *testing.T) {
	in := []netip.Prefix{
		netip.MustParsePrefix("10.1.2.3/8"),
		netip.MustParsePrefix("::ffff:192.168.0.0/112"),
		{}, // invalid: ignored
	}
	r := New(in)
	in[0] = netip.MustParsePrefix("0.0.0.0/0")
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.0.0/16")}
	if !slices.Equal(r.trusted, want) {
		t.Errorf("New(...).trusted = %v, want %v", r.trusted, want)
	}
}

func TestParseTrusted(t *testing.T) {
	tests := []struct {
		in      string
		want    string // the prefixes joined by ", "
		wantBad string // the entry the error must name, "" for no error
	}{
		{in: "", want: ""},
		{in: " , ", want: ""},
		{in: "10.0.0.0/8, 127.0.0.1, ::1", want: "10.0.0.0/8, 127.0.0.1/32, ::1/128"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"},
		{in: "2001:db8::1/32,fd00::/8", want: "2001:db8::/32, fd00::/8"},
		{in: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "::ffff:0:0/80", want: "::/80"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "10.0.0.0/8, 10.0.0.0/33", wantBad: "10.0.0.0/33"},
		{in: "127.0.0.1, localhost", wantBad: "localhost"},
		{in: "fe80::1%eth0", wantBad: "fe80::1%eth0"},
		{in: "fe80::%eth0/10", wantBad: "fe80::%eth0/10"},
		{in: "10.0.0.1:80", wantBad: "10.0.0.1:80"},
		{in: "010.0.0.1", wantBad: "010.0.0.1"},
		{in: "10.0.0.0/", wantBad: "10.0.0.0/"},
		{in: "1.2.3.4\n", want: "1.2.3.4/32"},
		{in: "1.2.3.4 5.6.7.8", wantBad: "1.2.3.4 5.6.7.8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTrusted(tt.in)
			if tt.wantBad != "" {
				if err == nil || !strings.Contains(err.Error(), `"`+tt.wantBad+`"`) {
					t.Errorf("ParseTrusted(%q) = %v, %v; want an error naming %q", tt.in, got, err, tt.wantBad)
				}
				if err != nil && strings.Contains(err.Error(), "\n") {
					t.Errorf("ParseTrusted(%q) error %q spans lines", tt.in, err)
				}
				return
			}
			if err != nil || join(got) != tt.want {
				t.Errorf("ParseTrusted(%q) = %q, %v; want %q, nil", tt.in, join(got), err, tt.want)
			}
		})
	}
}

func join(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func BenchmarkClientIP(b *testing.B) {
	trusted, _ := ParseTrusted("10.0.0.0/8, 192.168.0.0/16, ::1")
	r := New(trusted)
	req := &http.Request{RemoteAddr: "10.0.0.1:4711", Header: http.Header{"X-Forwarded-For": {"1.1.1.1, 203.0.113.7, 192.168.1.1, 10.0.0.2"}}}
	for b.Loop() {
		r.ClientIP(req)
	}
}
