package oidc

import (
	"errors"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// Bounds on the parameters of a request to the provider. A real request is
// a few hundred bytes; these stop a client (or an attacker) from storing
// kilobytes per authorization request or making the parser work on junk.
const (
	MaxParams     = 30   // distinct parameter names
	MaxParamBytes = 2048 // one value (a redirect URI is bounded by MaxRedirectURI)
	MaxTotalBytes = 8192 // all names and values together
)

// ErrBadParams is wrapped by CheckParams' errors.
var ErrBadParams = errors.New("malformed request parameters")

// CheckParams checks the parameters of an authorization (or token) request
// before anything reads them: RFC 6749 section 3.1 says a parameter must
// not appear more than once (Go's url.Values.Get would silently take the
// first of two, while another reader might take the last), values must be
// valid UTF-8 without control characters, and sizes are bounded.
func CheckParams(form url.Values) error {
	if len(form) > MaxParams {
		return fmt.Errorf("%w: more than %d parameters", ErrBadParams, MaxParams)
	}
	total := 0
	for name, values := range form {
		if len(values) > 1 {
			return fmt.Errorf("%w: parameter %q is repeated", ErrBadParams, truncate(name, 40))
		}
		total += len(name)
		for _, v := range values {
			total += len(v)
			if len(v) > MaxParamBytes {
				return fmt.Errorf("%w: parameter %q is longer than %d bytes", ErrBadParams, truncate(name, 40), MaxParamBytes)
			}
			if !utf8.ValidString(v) || !printable(v) {
				return fmt.Errorf("%w: parameter %q has invalid UTF-8 or control characters", ErrBadParams, truncate(name, 40))
			}
		}
		if !utf8.ValidString(name) || !printable(name) {
			return fmt.Errorf("%w: a parameter name has invalid UTF-8 or control characters", ErrBadParams)
		}
	}
	if total > MaxTotalBytes {
		return fmt.Errorf("%w: parameters longer than %d bytes in all", ErrBadParams, MaxTotalBytes)
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// issEncoder encodes authorization responses the library builds (errors
// redirected to the client) and adds iss, as RFC 9207 asks, so a client
// talking to several providers knows which one answered.
type issEncoder struct{ issuer string }

func (e issEncoder) Encode(src any, dst map[string][]string) error {
	if err := oidc.NewEncoder().Encode(src, dst); err != nil {
		return err
	}
	dst["iss"] = []string{e.issuer}
	return nil
}
