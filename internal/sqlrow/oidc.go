package sqlrow

import (
	"strings"

	"github.com/jwtgate/jwtgate"
)

// AuthRequestColumns is the column list ScanAuthRequest reads, in its order.
const AuthRequestColumns = `id, client_id, redirect_uri, scopes, state, nonce, code_challenge, response_mode, prompt, max_age, login_hint, hint_subject,
	created_at, expires_at, user_id, session_id, auth_time, amr, code_hash, code_expires_at, code_used_at, issued_session_id`

// AuthRequestArgs are the values of the first 14 columns of
// AuthRequestColumns (the request as the authorization endpoint stores it).
func AuthRequestArgs(r *jwtgate.AuthRequest) []any {
	return []any{r.ID, r.ClientID, r.RedirectURI, JoinList(r.Scopes), r.State, r.Nonce, r.CodeChallenge, r.ResponseMode,
		JoinList(r.Prompt), r.MaxAge, r.LoginHint, r.HintSubject, Millis(r.CreatedAt), Millis(r.ExpiresAt)}
}

// NullID is a user ID column that may be NULL: 0 (no user, a request
// refused before anyone logged in) is NULL.
func NullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// JoinList encodes a list of space-free words (scopes, amr, prompt values)
// as one space-separated column, the way OAuth writes scopes.
func JoinList(l []string) string { return strings.Join(l, " ") }

// SplitList decodes JoinList's output; "" is nil.
func SplitList(s string) []string { return strings.Fields(s) }

// ScanAuthRequest reads the columns of AuthRequestColumns.
func ScanAuthRequest(s Scanner) (*jwtgate.AuthRequest, error) {
	var r jwtgate.AuthRequest
	var scopes, prompt, amr string
	var created, expires, authTime, codeExpires int64
	var userID, used *int64
	if err := s.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &scopes, &r.State, &r.Nonce, &r.CodeChallenge, &r.ResponseMode, &prompt, &r.MaxAge, &r.LoginHint, &r.HintSubject,
		&created, &expires, &userID, &r.SessionID, &authTime, &amr, &r.CodeHash, &codeExpires, &used, &r.IssuedSessionID); err != nil {
		return nil, err
	}
	r.Scopes, r.Prompt, r.AMR = SplitList(scopes), SplitList(prompt), SplitList(amr)
	r.CreatedAt, r.ExpiresAt = Time(created), Time(expires)
	if userID != nil {
		r.UserID = *userID
	}
	if authTime != 0 {
		r.AuthTime = Time(authTime)
	}
	if codeExpires != 0 {
		r.CodeExpiresAt = Time(codeExpires)
	}
	r.CodeUsedAt = NullTime(used)
	return &r, nil
}

// ConsentColumns is the column list ScanConsent reads.
const ConsentColumns = `user_id, client_id, scopes, created_at, updated_at`

// ScanConsent reads the columns of ConsentColumns.
func ScanConsent(s Scanner) (*jwtgate.Consent, error) {
	var c jwtgate.Consent
	var scopes string
	var created, updated int64
	if err := s.Scan(&c.UserID, &c.ClientID, &scopes, &created, &updated); err != nil {
		return nil, err
	}
	c.Scopes, c.CreatedAt, c.UpdatedAt = SplitList(scopes), Time(created), Time(updated)
	return &c, nil
}

// GrantColumns is the column list ScanGrant reads.
const GrantColumns = `session_id, client_id, user_id, scopes, auth_time, amr, created_at`

// GrantArgs are the values of GrantColumns for g.
func GrantArgs(g *jwtgate.ClientGrant) []any {
	return []any{g.SessionID, g.ClientID, g.UserID, JoinList(g.Scopes), Millis(g.AuthTime), JoinList(g.AMR), Millis(g.CreatedAt)}
}

// ScanGrant reads the columns of GrantColumns.
func ScanGrant(s Scanner) (*jwtgate.ClientGrant, error) {
	var g jwtgate.ClientGrant
	var scopes, amr string
	var authTime, created int64
	if err := s.Scan(&g.SessionID, &g.ClientID, &g.UserID, &scopes, &authTime, &amr, &created); err != nil {
		return nil, err
	}
	g.Scopes, g.AMR, g.AuthTime, g.CreatedAt = SplitList(scopes), SplitList(amr), Time(authTime), Time(created)
	return &g, nil
}
