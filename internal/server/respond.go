package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// writeJSON writes v as a JSON response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the body of every error response: a stable machine-readable
// code and a human sentence. Messages never carry secrets or internals.
type apiError struct {
	Code    string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, apiError{Code: code, Message: msg})
}

// requestError is a decoding failure with the status it should get.
type requestError struct {
	status int
	code   string
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func (e *requestError) write(w http.ResponseWriter) { writeError(w, e.status, e.code, e.msg) }

func badRequest(format string, a ...any) *requestError {
	return &requestError{status: http.StatusBadRequest, code: "invalid_request", msg: fmt.Sprintf(format, a...)}
}

// decodeJSON reads a JSON object into v, a pointer to a struct. It
// refuses, with a 4xx requestError, bodies of another media type (415, see
// checkBodyType), too large, not valid UTF-8 (Go's decoder would silently
// replace bad bytes, so a name could change between what the client sent
// and what is stored), not JSON, with duplicate members or a member named
// like a field but in another case (see strictjson.go), of the wrong
// types, or followed by trailing data. Unknown fields are ignored, as the
// tutorial's FastAPI model did.
//
// The byte cap itself is set on every request by limitBodies.
func decodeJSON(r *http.Request, v any) *requestError {
	if rerr := checkBodyType(r); rerr != nil {
		return rerr
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &requestError{status: http.StatusRequestEntityTooLarge, code: "body_too_large",
				msg: fmt.Sprintf("request body exceeds %d bytes", tooBig.Limit)}
		}
		return badRequest("could not read request body")
	}
	if len(body) == 0 {
		return badRequest("request body is empty; want a JSON object")
	}
	if !utf8.Valid(body) {
		return badRequest("request body is not valid UTF-8")
	}
	if err := checkMembers(body, jsonFieldNames(v)); err != nil {
		if errors.Is(err, errNotObject) {
			return badRequest("request body is not a JSON object")
		}
		return badRequest("%s", err.Error())
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return badRequest("field %q must be a %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()))
		}
		return badRequest("request body is not a JSON object")
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int64", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	}
	return "valid value"
}
