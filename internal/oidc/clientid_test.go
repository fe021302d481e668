package oidc

import "testing"

// TestNewClientID: client IDs never start with "-" (a CLI would read one
// as a flag), and are 22 URL-safe characters. One ID in 64 would start
// with "-" otherwise, so a thousand find any regression.
func TestNewClientID(t *testing.T) {
	for range 1000 {
		id := newClientID()
		if len(id) != 22 || id[0] == '-' {
			t.Fatalf("newClientID() = %q, want 22 characters not starting with -", id)
		}
	}
}
