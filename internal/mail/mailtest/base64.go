package mailtest

import (
	"bytes"
	"encoding/base64"
)

// decodeBase64 decodes a base64 body wrapped in lines.
func decodeBase64(b []byte) (string, error) {
	b = bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, b)
	out, err := base64.StdEncoding.DecodeString(string(b))
	return string(out), err
}
