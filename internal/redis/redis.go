// Package redis keeps jwtgate's brute-force counters (throttle.Limiter) in
// Redis, so that the per-account and per-address limits hold for every
// instance sharing the server, not for each one apart.
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Client is a connection pool to one Redis database. It is safe for
// concurrent use.
type Client struct {
	rdb *goredis.Client
}

// Open connects to the Redis database at rawURL
// (redis://[user:password@]host:port/db, or rediss:// for TLS) and pings it.
// Its errors never contain the URL's password.
func Open(ctx context.Context, rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, openError(fmt.Errorf("invalid URL: %w", err), nil)
	}
	var secrets []string
	if p, ok := u.User.Password(); ok && p != "" {
		secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
	}
	target := u.Host + u.Path
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, openError(fmt.Errorf("invalid URL: %w", err), secrets)
	}
	rdb := goredis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, openError(fmt.Errorf("%s: %w", target, err), secrets)
	}
	return &Client{rdb: rdb}, nil
}

// Close closes the pool.
func (c *Client) Close() error { return c.rdb.Close() }

// openFailure is an error from Open: its text has every secret masked; its
// cause (for errors.Is and errors.As) is unmasked, so print the error, not
// its cause.
type openFailure struct {
	msg   string
	cause error
}

func (e *openFailure) Error() string { return e.msg }
func (e *openFailure) Unwrap() error { return e.cause }

func openError(err error, secrets []string) error {
	msg := "redis: open: " + strings.TrimPrefix(err.Error(), "redis: ")
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return &openFailure{msg: msg, cause: err}
}
