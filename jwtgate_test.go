package jwtgate

import (
	"errors"
	"fmt"
	"testing"
)

// TestSentinelErrorsDistinct: the HTTP layer maps each sentinel to its own
// status with errors.Is, so none may match another, even wrapped.
func TestSentinelErrorsDistinct(t *testing.T) {
	all := []error{ErrNotFound, ErrConflict, ErrInvalid, ErrBadCredentials, ErrUnauthenticated, ErrBusy, ErrThrottled}
	for i, a := range all {
		wrapped := fmt.Errorf("context: %w", a)
		for j, b := range all {
			if got := errors.Is(wrapped, b); got != (i == j) {
				t.Errorf("errors.Is(wrapped %v, %v) = %v, want %v", a, b, got, i == j)
			}
		}
	}
}
