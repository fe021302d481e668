package server

import (
	"net/http"
	"testing"
)

// cookieFromNetHTTP is the reference cookieValue must match.
func cookieFromNetHTTP(lines []string, name string) (string, bool) {
	r := &http.Request{Header: http.Header{"Cookie": lines}}
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

var cookieCases = [][]string{
	nil,
	{""},
	{"jwtgate_access=abc.def.ghi"},
	{"a=1; jwtgate_access=tok; b=2"},
	{"  jwtgate_access = spaced ;x=y"},
	{`jwtgate_access="quoted"`},
	{`jwtgate_access="`},
	{"jwtgate_access=bad\\value; jwtgate_access=second"},
	{"jwtgate_access=first; jwtgate_access=second"},
	{"other=1", "jwtgate_access=in-second-line"},
	{"jwtgate_access"},
	{"jwtgate_access="},
	{"Jwtgate_Access=case"},
	{"jwtgate_access=a b"},
	{"jwtgate_access=\x7f"},
	{";;; jwtgate_access=x;;;"},
	{"jwtgate_access=é"},
}

func TestCookieValueMatchesNetHTTP(t *testing.T) {
	for _, lines := range cookieCases {
		wantV, wantOK := cookieFromNetHTTP(lines, "jwtgate_access")
		gotV, gotOK := cookieValue(http.Header{"Cookie": lines}, "jwtgate_access")
		if gotV != wantV || gotOK != wantOK {
			t.Errorf("%q: got %q %v, want %q %v", lines, gotV, gotOK, wantV, wantOK)
		}
	}
}

func FuzzCookieValue(f *testing.F) {
	for _, lines := range cookieCases {
		for _, l := range lines {
			f.Add(l, "")
		}
	}
	f.Add("a=1", "jwtgate_access=2")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1}
		if line2 != "" {
			lines = append(lines, line2)
		}
		for _, name := range []string{"jwtgate_access", "__Host-jwtgate_access"} {
			wantV, wantOK := cookieFromNetHTTP(lines, name)
			gotV, gotOK := cookieValue(http.Header{"Cookie": lines}, name)
			if gotV != wantV || gotOK != wantOK {
				t.Fatalf("%q: got %q %v, want %q %v", lines, gotV, gotOK, wantV, wantOK)
			}
		}
	})
}
