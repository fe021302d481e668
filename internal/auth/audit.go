package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jwtgate/jwtgate"
)

type ctxKey int

const infoKey ctxKey = 0

// RequestInfo is what the HTTP layer knows about a request that the rules
// record in audit events: where it came from and who is acting. The HTTP
// layer makes one per request and fills ActorID once the token is checked.
type RequestInfo struct {
	Client  Client
	ActorID int64 // the authenticated user acting; 0 before authentication
}

// RequestInfoKey is the context key under which the rules look for the
// request's *RequestInfo. WithRequestInfo is the simple way to set it; an
// HTTP layer that already keeps its own per-request context value can
// answer this key from its Value method instead and save an allocation
// per request.
func RequestInfoKey() any { return infoKey }

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, infoKey, ri)
}

// WithClient returns ctx carrying the request's origin.
func WithClient(ctx context.Context, c Client) context.Context {
	return WithRequestInfo(ctx, &RequestInfo{Client: c})
}

func infoFrom(ctx context.Context) *RequestInfo {
	ri, _ := ctx.Value(infoKey).(*RequestInfo)
	if ri == nil {
		return &RequestInfo{}
	}
	return ri
}

// ClientFrom returns the request origin stored in ctx (zero if none).
func ClientFrom(ctx context.Context) Client { return infoFrom(ctx).Client }

func clientFrom(ctx context.Context) Client { return infoFrom(ctx).Client }

// audit records e in the store and the log. A failure to store is logged,
// not returned: the action it describes has already happened.
func (s *Service) audit(ctx context.Context, e jwtgate.AuditEvent) {
	s.fillEvent(ctx, &e)
	s.logEvent(ctx, &e)
	// The event is stored even if the request that caused it was cancelled.
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
		s.o.Logger.Error("audit event not stored", "event", e.Type, "err", err)
	}
}

// fillEvent completes e with what every event records besides its own
// facts: the time, where the request came from (unless e says), and the
// acting user when that is not the user concerned.
func (s *Service) fillEvent(ctx context.Context, e *jwtgate.AuditEvent) {
	e.At = s.o.Now()
	ri := infoFrom(ctx)
	if e.IP == "" {
		e.IP = ri.Client.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = truncate(ri.Client.UserAgent, 256)
	}
	if actor := ri.ActorID; actor != 0 && actor != e.UserID {
		e.ActorID = actor
	}
}

// logEvent writes a filled-in event to the log, at warning level for the
// types an operator should look at.
func (s *Service) logEvent(ctx context.Context, e *jwtgate.AuditEvent) {
	level := slog.LevelInfo
	switch e.Type {
	case jwtgate.EventRefreshReused, jwtgate.EventLoginThrottled, jwtgate.EventSecurityWarning:
		level = slog.LevelWarn
	}
	s.o.Logger.LogAttrs(ctx, level, "audit", slog.String("event", e.Type), slog.Int64("user_id", e.UserID),
		slog.Int64("actor_id", e.ActorID), slog.String("ip", e.IP), slog.String("detail", e.Detail))
}

// Audit lists audit events (admin API and CLI).
func (s *Service) Audit(ctx context.Context, f jwtgate.AuditFilter) ([]jwtgate.AuditEvent, error) {
	return s.store.Audit(ctx, f)
}

// sessionsText is "1 session", "3 sessions": audit details read as prose.
func sessionsText(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}

// rolesText describes a role list for the audit log.
func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "no roles"
	}
	return "roles " + strings.Join(roles, ",")
}
