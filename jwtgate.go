// Package jwtgate holds the domain of the jwtgate authentication server:
// users, sessions and signing keys, the sentinel errors every layer shares,
// and the small store interfaces the rules in package auth depend on.
//
// It knows nothing of HTTP or SQL. Adapters (internal/sqlite, internal/server)
// import it; it imports none of them.
package jwtgate

import "errors"

// Sentinel errors, checked with errors.Is. Stores and services wrap them with
// context; the HTTP layer maps them to status codes in one place.
var (
	// ErrNotFound means the record asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a unique value (a user name) is already taken.
	ErrConflict = errors.New("already exists")
	// ErrInvalid means input failed validation; the wrapping error names the field.
	ErrInvalid = errors.New("invalid input")
	// ErrBadCredentials means a login failed. It deliberately does not say
	// whether the user exists, is disabled, or the password was wrong.
	ErrBadCredentials = errors.New("invalid name or password")
	// ErrUnauthenticated means a request carried no valid access token.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrBusy means the server is shedding load (the password-hashing queue is full).
	ErrBusy = errors.New("server busy")
	// ErrThrottled means too many failed logins from this account or client;
	// the wrapping error says how long to wait.
	ErrThrottled = errors.New("too many failed attempts")
)
