package server

import (
	"testing"
)

// TestDeviceCookieLogin (issue 17 §6): after a stranger's five wrong
// passwords from one address, the right password from that address is
// refused (429), from another address it works, and from the same address
// it works with the device cookie an earlier login set; a device cookie
// that was tampered with counts for nothing.
func TestDeviceCookieLogin(t *testing.T) {
	f := newFixture(t, Options{})
	first := f.do(loginReq("alice", "alice-pass", "192.0.2.10:1234", ""))
	var device string
	for _, c := range first.resp.Cookies() {
		if c.Name == "jwtgate_device" {
			device = c.Value
		}
	}
	if first.code != 200 || device == "" {
		t.Fatalf("first login = %d with no device cookie", first.code)
	}
	for i := range 5 {
		if r := f.do(loginReq("alice", "wrong", "203.0.113.66:1234", "")); r.code != 400 {
			t.Fatalf("stranger's guess #%d = %d, want 400", i+1, r.code)
		}
	}
	// Tampered: another first character (always another first byte). A
	// fixed "x" was the cookie itself one run in 64.
	tampered := "x" + device[1:]
	if device[0] == 'x' {
		tampered = "y" + device[1:]
	}
	for _, tt := range []struct {
		name, remote, cookie string
		want                 int
	}{
		{name: "stranger's address, no cookie", remote: "203.0.113.66:1234", want: 429},
		{name: "stranger's address, tampered cookie", remote: "203.0.113.66:1234", cookie: tampered, want: 429},
		{name: "stranger's address, device cookie", remote: "203.0.113.66:1234", cookie: device, want: 200},
		{name: "another address, no cookie", remote: "198.51.100.1:1234", want: 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := loginReq("alice", "alice-pass", tt.remote, "")
			if tt.cookie != "" {
				req.Header.Set("Cookie", "jwtgate_device="+tt.cookie)
			}
			if r := f.do(req); r.code != tt.want {
				t.Errorf("POST /login (alice, right password) from %s = %d %s, want %d", tt.name, r.code, r.body, tt.want)
			}
		})
	}
}
