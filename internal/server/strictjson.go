package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// JSON request bodies are read strictly, because encoding/json is lenient
// in ways that let one body mean two things: it takes the last of
// duplicate members ({"name":"alice","name":"admin"}) and matches member
// names case-insensitively ("NAME" fills name). A proxy, a WAF or a log
// reading the first member or the exact name would see another request
// than the handler. So bodies with duplicate members, or with a name that
// differs from a field's only in case, are refused (400 invalid_request).

// checkBodyType enforces the media type of a JSON body (415
// unsupported_media_type otherwise). Accepted:
//   - application/json and application/*+json (charset, if given, utf-8);
//   - no Content-Type at all: scripts and tests often send none, and a
//     browser always sends one with a body, so this opens nothing to
//     cross-site forms;
//   - application/x-www-form-urlencoded on a request without cookies: it
//     is what `curl -d '{...}'` sends (the body must still be a JSON
//     object). Without cookies the request carries no ambient browser
//     credentials, so it cannot forge anything on a user's behalf, and an
//     HTML form cannot produce a JSON body in this encoding anyway.
//
// text/plain and multipart/form-data, which a cross-site HTML form can
// send without a CORS preflight, are always refused.
func checkBodyType(r *http.Request) *requestError {
	ct := r.Header.Values("Content-Type")
	switch len(ct) {
	case 0:
		return nil
	case 1:
	default:
		return unsupportedMediaType("send one Content-Type header: application/json")
	}
	mt, params, err := mime.ParseMediaType(ct[0])
	if err != nil {
		return unsupportedMediaType("malformed Content-Type; send application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return unsupportedMediaType("JSON bodies are UTF-8; send application/json without another charset")
	}
	switch {
	case mt == "application/json", strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"):
		return nil
	case mt == "application/x-www-form-urlencoded" && len(r.Header.Values("Cookie")) == 0:
		return nil
	}
	return unsupportedMediaType(fmt.Sprintf("Content-Type %s is not accepted; send a JSON object with Content-Type: application/json (curl: -H 'Content-Type: application/json')", mt))
}

func unsupportedMediaType(msg string) *requestError {
	return &requestError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: msg}
}

// fieldNames caches the JSON member names of request structs.
var fieldNames sync.Map // reflect.Type -> []string

// jsonFieldNames returns the member names encoding/json decodes into the
// struct v points to (nil for anything else).
func jsonFieldNames(v any) []string {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil
	}
	t = t.Elem()
	if names, ok := fieldNames.Load(t); ok {
		return names.([]string)
	}
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	fieldNames.Store(t, names)
	return names
}

// errNotObject means the body is not one JSON object; decodeJSON reports it
// as such.
var errNotObject = errors.New("not a JSON object")

// checkMembers refuses a JSON object with duplicate member names or with a
// name that differs from one of known only in case. Only the top level is
// checked: that is where members map onto a request's fields.
func checkMembers(body []byte, known []string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errNotObject
	}
	seen := make(map[string]struct{}, len(known))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errNotObject
		}
		name, _ := t.(string)
		if _, dup := seen[name]; dup {
			return fmt.Errorf("member %q appears twice", clip(name))
		}
		seen[name] = struct{}{}
		for _, k := range known {
			if name != k && strings.EqualFold(name, k) {
				return fmt.Errorf("member %q: names are case-sensitive; did you mean %q?", clip(name), k)
			}
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errNotObject
		}
	}
	return nil
}

// clip shortens a client-chosen name for an error message.
func clip(s string) string {
	if len(s) > 64 {
		return truncateUTF8(s, 64) + "..."
	}
	return s
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
