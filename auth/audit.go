package auth

import (
	"context"
	"log/slog"

	"github.com/jwtgate/jwtgate"
)

type ctxKey int

const (
	clientKey ctxKey = iota
	actorKey
)

// WithClient returns ctx carrying the request's origin, which audit events
// record. The HTTP layer sets it for every request.
func WithClient(ctx context.Context, c Client) context.Context {
	return context.WithValue(ctx, clientKey, c)
}

// WithActor returns ctx carrying the id of the authenticated user acting,
// so admin actions are attributed.
func WithActor(ctx context.Context, userID int64) context.Context {
	return context.WithValue(ctx, actorKey, userID)
}

// ClientFrom returns the request origin WithClient stored (zero if none).
func ClientFrom(ctx context.Context) Client { return clientFrom(ctx) }

func clientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey).(Client)
	return c
}

// audit records e in the store and the log. A failure to store is logged,
// not returned: the action it describes has already happened.
func (s *Service) audit(ctx context.Context, e jwtgate.AuditEvent) {
	e.At = s.o.Now()
	c := clientFrom(ctx)
	if e.IP == "" {
		e.IP = c.IP
	}
	if e.UserAgent == "" {
		e.UserAgent = truncate(c.UserAgent, 256)
	}
	if actor, ok := ctx.Value(actorKey).(int64); ok && actor != e.UserID {
		e.ActorID = actor
	}
	level := slog.LevelInfo
	switch e.Type {
	case jwtgate.EventRefreshReused, jwtgate.EventLoginThrottled, jwtgate.EventSecurityWarning:
		level = slog.LevelWarn
	}
	s.o.Logger.LogAttrs(ctx, level, "audit", slog.String("event", e.Type), slog.Int64("user_id", e.UserID),
		slog.Int64("actor_id", e.ActorID), slog.String("ip", e.IP), slog.String("detail", e.Detail))
	// The event is stored even if the request that caused it was cancelled.
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
		s.o.Logger.Error("audit event not stored", "event", e.Type, "err", err)
	}
}

// Audit lists audit events (admin API and CLI).
func (s *Service) Audit(ctx context.Context, f jwtgate.AuditFilter) ([]jwtgate.AuditEvent, error) {
	return s.store.Audit(ctx, f)
}
