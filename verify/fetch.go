package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// fetcher makes the Verifier's few outgoing requests: bounded in time and
// size, GET only, redirects only within one origin.
type fetcher struct {
	client *http.Client
}

func newFetcher(hc *http.Client) *fetcher {
	if hc == nil {
		hc = &http.Client{Timeout: defaultRequestTimeout}
	}
	c := *hc // a shallow copy, so the caller's client keeps its own policy
	c.CheckRedirect = sameOriginRedirect
	return &fetcher{client: &c}
}

// sameOriginRedirect follows at most 5 redirects, none leaving the origin of
// the first request: a redirect must not do what a rewritten jwks_uri may
// not.
func sameOriginRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if origin(req.URL) != origin(via[0].URL) {
		return fmt.Errorf("redirect to another origin (%s)", origin(req.URL))
	}
	return nil
}

// statusError is a response other than 200.
type statusError struct {
	url  string
	code int
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: status %d", e.url, e.code) }

// get fetches u and returns its body, at most limit bytes, and headers.
func (f *fetcher) get(ctx context.Context, u string, limit int64) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, defaultRequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // lets the connection be reused
		return nil, nil, &statusError{url: u, code: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("GET %s: response larger than %d bytes", u, limit)
	}
	return body, resp.Header, nil
}

// origin is scheme://host[:port] in lower case, without a default port.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host
}
