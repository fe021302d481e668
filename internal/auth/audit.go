package auth

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

type requestKey struct{}

// Request is what the rules record in audit events about the request being
// served: where it came from and who is acting. The HTTP layer puts one in
// the request's context (WithRequest) once it knows them; it is a value,
// never changed once there, so a context handed to another goroutine stays
// right.
type Request struct {
	Client Client
	// Actor is the verified access token of the user acting; nil before
	// authentication.
	Actor *token.Claims
}

// WithRequest returns ctx carrying req.
func WithRequest(ctx context.Context, req Request) context.Context {
	return context.WithValue(ctx, requestKey{}, req)
}

// RequestFrom returns the request value in ctx (zero if none).
func RequestFrom(ctx context.Context) Request {
	req, _ := ctx.Value(requestKey{}).(Request)
	return req
}

// WithClient returns ctx carrying the request's origin (and the acting
// user already in ctx, if any).
func WithClient(ctx context.Context, c Client) context.Context {
	req := RequestFrom(ctx)
	req.Client = c
	return WithRequest(ctx, req)
}

// ClientFrom returns the request origin stored in ctx (zero if none).
func ClientFrom(ctx context.Context) Client { return RequestFrom(ctx).Client }

func clientFrom(ctx context.Context) Client { return RequestFrom(ctx).Client }

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

// Record audits an event of another part of jwtgate (the OpenID client
// registry), filled in and logged as the rules' own events are: the time,
// the request's origin and the acting admin from ctx.
func (s *Service) Record(ctx context.Context, e jwtgate.AuditEvent) { s.audit(ctx, e) }

// fillEvent completes e with what every event records besides its own
// facts: the time, where the request came from (unless e says), and the
// acting user when that is not the user concerned.
func (s *Service) fillEvent(ctx context.Context, e *jwtgate.AuditEvent) {
	e.At = s.o.Now()
	req := RequestFrom(ctx)
	if e.IP == "" {
		e.IP = req.Client.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = truncate(req.Client.UserAgent, 256)
	}
	if req.Actor != nil && req.Actor.UserID != 0 && req.Actor.UserID != e.UserID {
		e.ActorID = req.Actor.UserID
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
