// Package passkey registers and checks WebAuthn credentials (passkeys and
// security keys) with go-webauthn: as a second factor after a password,
// and as passwordless sign-in with a discoverable credential and user
// verification. The relying party ID and the allowed origin come from the
// configured public URL, never from a request's headers.
//
// A ceremony's state (its challenge) lives in the store between begin and
// finish, as a single-use token whose ID the client carries, so begin and
// finish may reach different instances, and a challenge answers once.
package passkey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/jwtgate/jwtgate"
)

// Errors, wrapped with context.
var (
	// ErrCeremony: the ceremony ID is unknown, used or expired.
	ErrCeremony = errors.New("passkey: unknown or expired ceremony")
	// ErrRefused: the authenticator's answer does not verify (another
	// origin or RP ID, a wrong signature or challenge, a cloned counter,
	// an unknown credential). Deliberately one error.
	ErrRefused = errors.New("passkey: the authenticator's answer was refused")
)

// Purposes of ceremony tokens in the one-time token store.
const (
	purposeRegister = "webauthn_register"
	purposeLogin    = "webauthn_login"
)

// CeremonyTTL bounds the time between begin and finish.
const CeremonyTTL = 5 * time.Minute

// MaxResponseBytes bounds an authenticator's answer.
const MaxResponseBytes = 64 << 10

// Store is what passkeys need from storage.
type Store interface {
	jwtgate.UserStore
	jwtgate.FactorStore
	jwtgate.OneTimeTokenStore
}

// Options configure a Service.
type Options struct {
	// PublicURL is the server's public URL: its host is the relying party
	// ID and its origin the only origin accepted.
	PublicURL string
	// RPName is shown by the browser; default "jwtgate".
	RPName string
	Audit  func(context.Context, jwtgate.AuditEvent)
	Now    func() time.Time
}

// Service runs WebAuthn ceremonies. Safe for concurrent use.
type Service struct {
	wa    *webauthn.WebAuthn
	store Store
	o     Options
}

// New returns a Service for the relying party at o.PublicURL.
func New(store Store, o Options) (*Service, error) {
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Hostname() == "" {
		return nil, fmt.Errorf("passkey: public URL %q must be an absolute http(s) URL", o.PublicURL)
	}
	if o.RPName == "" {
		o.RPName = "jwtgate"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Audit == nil {
		o.Audit = func(context.Context, jwtgate.AuditEvent) {}
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: o.RPName,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Service{wa: wa, store: store, o: o}, nil
}

// user adapts a jwtgate user and its credentials to go-webauthn.
type user struct {
	u     *jwtgate.User
	creds []jwtgate.WebAuthnCredential
}

// handle is the WebAuthn user handle of a user: its id, 8 bytes big
// endian. Ids are never reused (the stores guarantee it) and are no
// personal data, as the spec asks of a handle.
func handle(id int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

func (w *user) WebAuthnID() []byte          { return handle(w.u.ID) }
func (w *user) WebAuthnName() string        { return w.u.Name }
func (w *user) WebAuthnDisplayName() string { return w.u.Name }
func (w *user) WebAuthnCredentials() []webauthn.Credential {
	out := make([]webauthn.Credential, len(w.creds))
	for i, c := range w.creds {
		out[i] = webauthn.Credential{
			ID: c.ID, PublicKey: c.PublicKey, AttestationType: c.AttestationType,
			Flags:         webauthn.CredentialFlags{BackupEligible: c.BackupEligible, BackupState: c.BackupState},
			Authenticator: webauthn.Authenticator{AAGUID: c.AAGUID, SignCount: c.SignCount},
		}
		for _, t := range c.Transports {
			out[i].Transport = append(out[i].Transport, protocol.AuthenticatorTransport(t))
		}
	}
	return out
}

func (s *Service) load(ctx context.Context, userID int64) (*user, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("passkey: user %d: %w", userID, err)
	}
	creds, err := s.store.WebAuthnCredentials(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &user{u: u, creds: creds}, nil
}

// ceremony stores session data under a fresh ID and returns the ID.
func (s *Service) ceremony(ctx context.Context, purpose string, userID int64, data any) (string, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return "", fmt.Errorf("passkey: %w", err)
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	id := base64.RawURLEncoding.EncodeToString(raw)
	h := sha256.Sum256([]byte(id))
	now := s.o.Now()
	// A fresh ceremony voids the user's older one of the same kind; a
	// passwordless one (no user) voids none, as its Email is unique.
	t := &jwtgate.OneTimeToken{Hash: h[:], Purpose: purpose, UserID: userID, Data: string(b), CreatedAt: now, ExpiresAt: now.Add(CeremonyTTL)}
	if userID == 0 {
		t.Email = id[:16] // invitations key on email when there is no user; keep ceremonies apart
	}
	if err := s.store.CreateOneTimeToken(ctx, t); err != nil {
		return "", fmt.Errorf("passkey: store ceremony: %w", err)
	}
	return id, nil
}

// spend takes the ceremony id of purpose, once.
func (s *Service) spend(ctx context.Context, purpose, id string, into any) (*jwtgate.OneTimeToken, error) {
	if len(id) != 43 {
		return nil, ErrCeremony
	}
	h := sha256.Sum256([]byte(id))
	t, err := s.store.SpendOneTimeToken(ctx, purpose, h[:], s.o.Now())
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrCeremony
	}
	if err != nil {
		return nil, fmt.Errorf("passkey: ceremony: %w", err)
	}
	if err := json.Unmarshal([]byte(t.Data), into); err != nil {
		return nil, fmt.Errorf("passkey: ceremony data: %w", err)
	}
	return t, nil
}

// BeginRegistration starts adding a passkey for userID. It returns the
// ceremony ID and the options for navigator.credentials.create (JSON).
// A discoverable credential with user verification is preferred, so the
// passkey also serves passwordless sign-in; credentials the user has are
// excluded.
func (s *Service) BeginRegistration(ctx context.Context, userID int64) (string, json.RawMessage, error) {
	w, err := s.load(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range w.WebAuthnCredentials() {
		exclude = append(exclude, c.Descriptor())
	}
	creation, session, err := s.wa.BeginRegistration(w,
		webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred,
		}),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin registration: %w", err)
	}
	id, err := s.ceremony(ctx, purposeRegister, userID, session)
	if err != nil {
		return "", nil, err
	}
	opts, err := json.Marshal(creation)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: %w", err)
	}
	return id, opts, nil
}

// CheckName validates a passkey's label: 1 to 64 characters, no control
// characters, valid UTF-8. The error wraps jwtgate.ErrInvalid.
func CheckName(name string) error {
	if !utf8.ValidString(name) || name == "" || utf8.RuneCountInString(name) > jwtgate.MaxFactorNameLen ||
		strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
		return fmt.Errorf("%w: passkey name must be 1 to %d characters without control characters", jwtgate.ErrInvalid, jwtgate.MaxFactorNameLen)
	}
	return nil
}

// FinishRegistration completes the ceremony id for userID with the
// browser's answer (the PublicKeyCredential as JSON) and stores the new
// credential under name. Errors wrap ErrCeremony, ErrRefused,
// jwtgate.ErrInvalid (a malformed answer or name) or jwtgate.ErrConflict
// (the credential is registered already).
func (s *Service) FinishRegistration(ctx context.Context, userID int64, id, name string, response []byte) (*jwtgate.WebAuthnCredential, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	if len(response) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: authenticator response too large", jwtgate.ErrInvalid)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: authenticator response: %s", jwtgate.ErrInvalid, protocolMessage(err))
	}
	var session webauthn.SessionData
	t, err := s.spend(ctx, purposeRegister, id, &session)
	if err != nil {
		return nil, err
	}
	if t.UserID != userID {
		return nil, ErrCeremony
	}
	w, err := s.load(ctx, userID)
	if err != nil {
		return nil, err
	}
	cred, err := s.wa.CreateCredential(w, session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRefused, protocolMessage(err))
	}
	c := &jwtgate.WebAuthnCredential{
		ID: cred.ID, UserID: userID, Name: name, PublicKey: cred.PublicKey, AttestationType: cred.AttestationType,
		AAGUID: cred.Authenticator.AAGUID, SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState, CreatedAt: s.o.Now(),
	}
	for _, tr := range cred.Transport {
		c.Transports = append(c.Transports, string(tr))
	}
	if err := s.store.AddWebAuthnCredential(ctx, c); err != nil {
		return nil, fmt.Errorf("passkey: store credential: %w", err)
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasskeyAdded, UserID: userID, Name: w.u.Name, Detail: name})
	return c, nil
}

// loginSession is a login ceremony's state: the library's, and whether
// the user must be verified (passwordless).
type loginSession struct {
	Session      webauthn.SessionData `json:"session"`
	Passwordless bool                 `json:"passwordless"`
}

// BeginLogin starts a passkey check as the second factor of userID, who
// has given the password. It returns the ceremony ID and the options for
// navigator.credentials.get (JSON). Errors wrap jwtgate.ErrNotFound if
// the user has no passkey.
func (s *Service) BeginLogin(ctx context.Context, userID int64) (string, json.RawMessage, error) {
	w, err := s.load(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	if len(w.creds) == 0 {
		return "", nil, fmt.Errorf("passkey: user %d has no passkey: %w", userID, jwtgate.ErrNotFound)
	}
	assertion, session, err := s.wa.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return s.finishBegin(ctx, userID, assertion, loginSession{Session: *session})
}

// BeginPasswordless starts a sign-in with a discoverable credential alone;
// the authenticator must verify the user (PIN, biometrics).
func (s *Service) BeginPasswordless(ctx context.Context) (string, json.RawMessage, error) {
	assertion, session, err := s.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return "", nil, fmt.Errorf("passkey: begin login: %w", err)
	}
	return s.finishBegin(ctx, 0, assertion, loginSession{Session: *session, Passwordless: true})
}

func (s *Service) finishBegin(ctx context.Context, userID int64, assertion *protocol.CredentialAssertion, ls loginSession) (string, json.RawMessage, error) {
	id, err := s.ceremony(ctx, purposeLogin, userID, ls)
	if err != nil {
		return "", nil, err
	}
	opts, err := json.Marshal(assertion)
	if err != nil {
		return "", nil, fmt.Errorf("passkey: %w", err)
	}
	return id, opts, nil
}

// Result is a verified assertion.
type Result struct {
	User *jwtgate.User
	// Passwordless is true when the passkey alone signed the user in.
	Passwordless bool
	// AMR are the RFC 8176 methods the assertion proves: "hwk" for a
	// device-bound key, "swk" for a synced passkey, plus "user" when the
	// authenticator verified the user.
	AMR []string
}

// FinishLogin completes the login ceremony id with the browser's answer.
// For a second-factor ceremony, userID must be the user who began it; a
// passwordless one takes 0 and finds the user from the credential. The
// sign counter must grow (a clone is refused) and is stored with the
// backup state. Errors wrap ErrCeremony, ErrRefused or jwtgate.ErrInvalid.
func (s *Service) FinishLogin(ctx context.Context, userID int64, id string, response []byte) (*Result, error) {
	if len(response) > MaxResponseBytes {
		return nil, fmt.Errorf("%w: authenticator response too large", jwtgate.ErrInvalid)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: authenticator response: %s", jwtgate.ErrInvalid, protocolMessage(err))
	}
	var ls loginSession
	t, err := s.spend(ctx, purposeLogin, id, &ls)
	if err != nil {
		return nil, err
	}
	if t.UserID != userID || ls.Passwordless != (userID == 0) {
		return nil, ErrCeremony
	}
	var w *user
	var cred *webauthn.Credential
	if ls.Passwordless {
		var found webauthn.User
		found, cred, err = s.wa.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			if len(userHandle) != 8 {
				return nil, ErrRefused
			}
			return s.load(ctx, int64(binary.BigEndian.Uint64(userHandle)))
		}, ls.Session, parsed)
		if err == nil {
			w = found.(*user)
		}
	} else {
		if w, err = s.load(ctx, userID); err != nil {
			return nil, err
		}
		cred, err = s.wa.ValidateLogin(w, ls.Session, parsed)
	}
	if err != nil {
		s.refused(ctx, userID, ls.Passwordless, protocolMessage(err))
		return nil, fmt.Errorf("%w: %s", ErrRefused, protocolMessage(err))
	}
	if w.u.Disabled {
		s.refused(ctx, w.u.ID, ls.Passwordless, "account disabled")
		return nil, ErrRefused
	}
	if err := s.store.UseWebAuthnCredential(ctx, cred.ID, cred.Authenticator.SignCount, cred.Flags.BackupState, s.o.Now()); err != nil {
		if errors.Is(err, jwtgate.ErrConflict) || errors.Is(err, jwtgate.ErrNotFound) {
			s.refused(ctx, w.u.ID, ls.Passwordless, "sign counter did not grow: a cloned authenticator?")
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
		return nil, fmt.Errorf("passkey: record use: %w", err)
	}
	r := &Result{User: w.u, Passwordless: ls.Passwordless, AMR: []string{"hwk"}}
	if cred.Flags.BackupEligible {
		r.AMR[0] = "swk"
	}
	if parsed.Response.AuthenticatorData.Flags.HasUserVerified() { // this assertion's flag, not the stored credential's
		r.AMR = append(r.AMR, "user")
	}
	return r, nil
}

// refused audits an assertion that did not verify: a failed second factor
// of userID, or a failed passwordless sign-in (userID 0 when the
// credential named no known user).
func (s *Service) refused(ctx context.Context, userID int64, passwordless bool, why string) {
	detail := "passkey refused: " + why
	if passwordless {
		detail = "passwordless " + detail
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventMFAFailed, UserID: userID, Detail: truncate(detail, 200)})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Rename and Delete manage userID's own credentials; credential IDs come
// base64url-encoded, as the pages show them.

// List returns userID's passkeys.
func (s *Service) List(ctx context.Context, userID int64) ([]jwtgate.WebAuthnCredential, error) {
	return s.store.WebAuthnCredentials(ctx, userID)
}

// DecodeID parses a credential ID as the API shows it (base64url).
func DecodeID(id string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) == 0 || len(b) > 1023 {
		return nil, fmt.Errorf("%w: passkey id is not base64url", jwtgate.ErrInvalid)
	}
	return b, nil
}

// Rename relabels one of userID's passkeys.
func (s *Service) Rename(ctx context.Context, userID int64, id []byte, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	return s.store.RenameWebAuthnCredential(ctx, userID, id, name)
}

// Delete removes one of userID's passkeys.
func (s *Service) Delete(ctx context.Context, u *jwtgate.User, id []byte) error {
	if err := s.store.DeleteWebAuthnCredential(ctx, u.ID, id); err != nil {
		return err
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasskeyRemoved, UserID: u.ID, Name: u.Name})
	return nil
}

// protocolMessage is the library's error as one line, without the
// internal detail it keeps for developers.
func protocolMessage(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return strings.TrimSpace(pe.Details)
	}
	return err.Error()
}
