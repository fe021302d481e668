package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// identityJSON is the body of GET /user and GET /auth/verify: who the token
// says the caller is. Both answer every authenticated request behind them,
// so the body is appended by hand rather than through encoding/json's
// reflection; the output is byte for byte what encoding/json writes for
// the same struct (TestIdentityJSONMatchesEncodingJSON, FuzzIdentityJSON).
// "sub" is the user's stable id as a string, as in the token's sub claim
// (RFC 7519 4.1.2; OpenID clients key users by it), next to the
// tutorial's "name" and "id". withExp adds "exp" (GET /user only).
func appendIdentityJSON(b []byte, name string, id int64, roles []string, exp int64, withExp bool) []byte {
	b = append(b, `{"name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"sub":"`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"roles":[`...)
	for i, r := range roles {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, r)
	}
	b = append(b, ']')
	if withExp {
		b = append(b, `,"exp":`...)
		b = strconv.AppendInt(b, exp, 10)
	}
	return append(b, "}\n"...) // json.Encoder ends with a newline
}

// appendJSONString appends s quoted. Printable ASCII that encoding/json
// leaves alone is copied; anything else (escapes, HTML-sensitive
// characters, non-ASCII, invalid UTF-8) goes through encoding/json, so the
// rules are never restated here.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// writeIdentity writes an identity body with status 200. The body is
// built in a pooled buffer: net/http copies what Write is given.
func writeIdentity(w http.ResponseWriter, name string, id int64, roles []string, exp int64, withExp bool) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	bp := identityBufs.Get().(*[]byte)
	b := appendIdentityJSON((*bp)[:0], name, id, roles, exp, withExp)
	_, _ = w.Write(b)
	if cap(b) <= 4<<10 { // a huge name or role list is not kept
		*bp = b
		identityBufs.Put(bp)
	}
}

var identityBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

var jsonContentType = []string{"application/json"}
