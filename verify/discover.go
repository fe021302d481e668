package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"time"
)

// discoverer finds and loads the issuer's keys for New's Verifier: once in
// New, then, if that failed, again with backoff until it succeeds or the
// Verifier closes.
type discoverer struct {
	v         *Verifier
	f         *fetcher
	issuer    string   // the public issuer, as in iss
	iss       *url.URL // issuer, parsed
	fetchBase string   // where requests go: issuer, or WithInternalURL's base
	allowed   []string // WithJWKSOrigin's origins
	poll      time.Duration
}

// once reads discovery and keys and, on success, the revocation feed's
// first page, then publishes the keys: from then on Verify accepts tokens.
func (d *discoverer) once(ctx context.Context) error {
	jwksURL, err := d.discover(ctx)
	if err != nil {
		return err
	}
	now := d.v.keys.now()
	s, err := d.v.keys.load(ctx, jwksURL, now)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if r := d.v.revs; r != nil {
		// Before any token is accepted, so earlier logouts are known.
		r.pollAndLog(ctx)
		d.v.wg.Add(1)
		go func() {
			defer d.v.wg.Done()
			r.run(d.v.keys.base, d.poll)
		}()
	}
	d.v.keys.publish(jwksURL, s, now)
	close(d.v.ready)
	return nil
}

// retry calls once with exponential backoff (min doubling to max, ±20%
// jitter so a fleet restarted together does not retry in step) until it
// succeeds or ctx ends. Each failure is logged: with the backoff that is at
// most a line a minute.
func (d *discoverer) retry(ctx context.Context, min, max time.Duration) {
	delay := min
	for attempt := 2; ; attempt++ {
		wait := time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64()))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		err := d.once(ctx)
		if err == nil {
			d.v.log.Info("verify: issuer's keys known; accepting tokens", "issuer", d.issuer, "attempt", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		d.v.lastErr.Store(&err)
		delay = time.Duration(float64(delay) * 2)
		if delay > max {
			delay = max
		}
		d.v.log.Warn("verify: issuer still unavailable; retrying", "issuer", d.issuer, "attempt", attempt, "retry_in", delay, "err", err)
	}
}

// discover reads the issuer's OpenID discovery document (OpenID Connect
// Discovery 1.0 sections 4 and 4.3) and returns the URL to fetch its keys
// from: its jwks_uri, checked, and mapped onto WithInternalURL's base when
// that is set.
func (d *discoverer) discover(ctx context.Context) (string, error) {
	u := d.fetchBase + "/.well-known/openid-configuration"
	body, _, err := d.f.get(ctx, u, maxDiscoveryLen)
	if err != nil {
		return "", fmt.Errorf("verify: discovery: %w", err)
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("verify: discovery document %s: %w", u, err)
	}
	if doc.Issuer != d.issuer {
		return "", fmt.Errorf("verify: discovery document %s names issuer %q, want exactly %q", u, doc.Issuer, d.issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("verify: discovery document %s has no jwks_uri (an issuer signing with a shared secret publishes no keys: use NewStatic)", u)
	}
	j, err := url.Parse(doc.JWKSURI)
	if err != nil || (j.Scheme != "http" && j.Scheme != "https") || j.Host == "" || j.User != nil {
		return "", fmt.Errorf("verify: discovery document %s: jwks_uri %q is not an http or https URL", u, doc.JWKSURI)
	}
	o := origin(j)
	if o != origin(d.iss) && !slices.Contains(d.allowed, o) {
		return "", fmt.Errorf("verify: jwks_uri %q is not on the issuer's origin %s (allow it with WithJWKSOrigin)", doc.JWKSURI, origin(d.iss))
	}
	if d.fetchBase == strings.TrimSuffix(d.issuer, "/") || o != origin(d.iss) {
		return j.String(), nil
	}
	// WithInternalURL: the public issuer's URLs are reached through the
	// internal base, so the key URL must lie under the issuer's.
	prefix := strings.TrimSuffix(d.issuer, "/") + "/"
	if !strings.HasPrefix(j.String(), prefix) {
		return "", fmt.Errorf("verify: jwks_uri %q is not under the issuer %q, so WithInternalURL cannot map it", doc.JWKSURI, d.issuer)
	}
	return d.fetchBase + "/" + strings.TrimPrefix(j.String(), prefix), nil
}
