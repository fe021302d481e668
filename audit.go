package jwtgate

import (
	"context"
	"time"
)

// Audit event types. Stable strings: operators grep and alert on them.
const (
	EventLoginSucceeded   = "login.succeeded"
	EventLoginFailed      = "login.failed"
	EventLoginThrottled   = "login.throttled"
	EventLogout           = "logout"
	EventRefreshReused    = "refresh.reused"
	EventPasswordChanged  = "password.changed"
	EventSessionRevoked   = "session.revoked"
	EventSessionsRevoked  = "sessions.revoked"
	EventUserCreated      = "user.created"
	EventUserDisabled     = "user.disabled"
	EventUserEnabled      = "user.enabled"
	EventUserDeleted      = "user.deleted"
	EventPasswordReset    = "user.password_reset"
	EventRolesChanged     = "user.roles_changed"
	EventKeyRotated       = "key.rotated"
	EventSecurityWarning  = "security.warning"
	EventPasswordRehashed = "password.rehashed"

	// Accounts that run themselves: signup, invitations, email, reset.
	EventSignedUp               = "user.signed_up"
	EventInvited                = "invitation.created"
	EventInvitationRevoked      = "invitation.revoked"
	EventInvitationAccepted     = "invitation.accepted"
	EventVerificationSent       = "email.verification_sent"
	EventEmailVerified          = "email.verified"
	EventEmailChanged           = "email.changed"
	EventPasswordResetRequested = "password.reset_requested"
	EventPasswordResetCompleted = "password.reset_completed"

	// Second factors.
	EventTOTPEnabled           = "mfa.totp_enabled"
	EventTOTPDisabled          = "mfa.totp_disabled"
	EventRecoveryCodesReplaced = "mfa.recovery_codes_replaced"
	EventRecoveryCodeUsed      = "mfa.recovery_code_used"
	EventMFAFailed             = "mfa.failed"
	EventPasskeyAdded          = "mfa.passkey_added"
	EventPasskeyRemoved        = "mfa.passkey_removed"
	EventFactorsReset          = "mfa.factors_reset"

	// OpenID Connect clients.
	EventClientCreated       = "client.created"
	EventClientSecretRotated = "client.secret_rotated"
	EventClientDeleted       = "client.deleted"
)

// AuditEvent is one security-relevant fact: who, what, from where. It never
// holds a secret: no password, token or hash.
type AuditEvent struct {
	ID        int64
	At        time.Time
	Type      string
	UserID    int64  // the user concerned; 0 when unknown
	ActorID   int64  // who did it, when not the user (an admin); 0 for the user or the CLI
	Name      string // the user's name, only for existing users (a mistyped name may be a password)
	IP        string
	UserAgent string
	Detail    string // a short, secret-free note (a session id, a kid, a count)
}

// AuditFilter selects events, newest first.
type AuditFilter struct {
	Limit    int    // at most this many (the store caps it)
	BeforeID int64  // only events with a smaller ID (paging); 0 for the newest
	UserID   int64  // only this user's; 0 for all
	Type     string // only this type; "" for all
}

// AuditStore keeps the audit log. Implementations are safe for concurrent use.
type AuditStore interface {
	// AppendAudit stores e and sets e.ID.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// Audit returns events matching f, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}
