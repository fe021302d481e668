package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// print writes r for people: header, claims with times made readable,
// and the verdict.
func (r *report) print(w io.Writer, k *checker, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	section := func(name string, m map[string]any, first []string) {
		if m == nil {
			fmt.Fprintf(tw, "%s:\t(not decodable)\n", name)
			return
		}
		fmt.Fprintf(tw, "%s:\n", name)
		for _, key := range orderKeys(m, first) {
			fmt.Fprintf(tw, "  %s\t%s\n", display(key), showValue(key, m[key], now))
		}
	}
	section("header", r.Header, []string{"alg", "kid", "typ"})
	section("claims", r.Claims, []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "id", "name", "roles"})
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case r.Valid && !r.Revoked:
		fmt.Fprintln(w, "verdict: VALID")
		var unchecked []string
		if k.issuer == "" && r.claims.Issuer != "" {
			unchecked = append(unchecked, "iss (give --issuer)")
		}
		if k.audience == "" && len(r.claims.Audience) > 0 {
			unchecked = append(unchecked, "aud (give --audience)")
		}
		if unchecked != nil {
			fmt.Fprintf(w, "not checked: %s\n", strings.Join(unchecked, ", "))
		}
	case r.Valid:
		fmt.Fprintf(w, "verdict: REVOKED: %s\n", strings.TrimPrefix(r.Detail, "revoked: "))
	default:
		fmt.Fprintf(w, "verdict: INVALID: %s\n", r.Detail)
		if r.Revoked {
			fmt.Fprintln(w, "         and REVOKED: its sid or jti is in the revocation feed")
		}
	}
	return nil
}

// orderKeys lists m's keys: those of first that are present, then the rest sorted.
func orderKeys(m map[string]any, first []string) []string {
	var out, rest []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// timeClaims are NumericDate claims, shown as times.
var timeClaims = []string{"exp", "nbf", "iat", "auth_time"}

// showValue renders a header or claim value on one line: times as RFC3339
// with how far off they are, strings bare when harmless, the rest as JSON.
func showValue(key string, v any, now time.Time) string {
	if n, ok := v.(json.Number); ok && slices.Contains(timeClaims, key) {
		// Years 1970 to 9999; beyond, the number is shown as it is.
		if f, err := n.Float64(); err == nil && f >= 0 && f < 253402300800 {
			return when(time.Unix(int64(f), 0), now)
		}
	}
	if s, ok := v.(string); ok {
		return display(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return display(string(b))
}

// when renders t as RFC3339 in UTC with its distance from now.
func when(t time.Time, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// relative says how far t is from now in its largest whole unit: "in 12m", "3h ago".
func relative(t, now time.Time) string {
	secs := t.Unix() - now.Unix() // seconds, not a Duration: times far off would overflow one
	abs := max(secs, -secs)
	var s string
	switch {
	case abs < 1:
		return "now"
	case abs < 60:
		s = fmt.Sprintf("%ds", abs)
	case abs < 3600:
		s = fmt.Sprintf("%dm", abs/60)
	case abs < 48*3600:
		s = fmt.Sprintf("%dh", abs/3600)
	default:
		s = fmt.Sprintf("%dd", abs/86400)
	}
	if secs > 0 {
		return "in " + s
	}
	return s + " ago"
}

// display shows s as it is when it is plain printable text, else quoted:
// a token is attacker input, and must not write escape sequences or
// invisible characters to the operator's terminal.
func display(s string) string {
	if s != "" && strings.TrimSpace(s) == s && printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// quote quotes attacker-supplied text for a message, "none" for "".
func quote(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.Quote(s)
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func quoteHeader(h map[string]any, name string) string {
	switch v := h[name].(type) {
	case nil:
		return "none"
	case string:
		return display(v)
	default:
		b, _ := json.Marshal(v)
		return display(string(b))
	}
}
