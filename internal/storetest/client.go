package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

func testClients(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	grafana := &jwtgate.Client{ID: "c-grafana", Name: "Grafana", SecretHash: hashOf("s1"),
		RedirectURIs: []string{"https://grafana.example.test/login/generic_oauth", "http://127.0.0.1/cb"}, PostLogoutRedirectURIs: []string{"https://grafana.example.test/"},
		Scopes: []string{"openid", "email"}, Trusted: true, IDTokenAlg: "EdDSA", CreatedAt: t0, UpdatedAt: t0}
	cli := &jwtgate.Client{ID: "c-cli", Name: "cli", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"}, CreatedAt: t0, UpdatedAt: t0}
	for _, c := range []*jwtgate.Client{grafana, cli} {
		if err := s.CreateClient(ctx, c); err != nil {
			t.Fatalf("CreateClient(%s) = %v", c.Name, err)
		}
	}
	for _, dup := range []*jwtgate.Client{
		{ID: "c-grafana", Name: "other", CreatedAt: t0, UpdatedAt: t0},
		{ID: "c-other", Name: "GRAFANA", CreatedAt: t0, UpdatedAt: t0},
	} {
		if err := s.CreateClient(ctx, dup); !errors.Is(err, jwtgate.ErrConflict) {
			t.Errorf("CreateClient(id %s, name %s) = %v, want ErrConflict", dup.ID, dup.Name, err)
		}
	}
	got, err := s.Client(ctx, "c-grafana")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Grafana" || !bytes.Equal(got.SecretHash, hashOf("s1")) || got.Public || !got.Trusted || got.IDTokenAlg != "EdDSA" ||
		!slices.Equal(got.RedirectURIs, grafana.RedirectURIs) || !slices.Equal(got.PostLogoutRedirectURIs, grafana.PostLogoutRedirectURIs) ||
		!slices.Equal(got.Scopes, grafana.Scopes) || !sameTime(got.CreatedAt, t0) {
		t.Errorf("Client(grafana) = %+v, want %+v", got, grafana)
	}
	if got, _ := s.Client(ctx, "c-cli"); !got.Public || got.SecretHash != nil || len(got.Scopes) != 0 || len(got.PostLogoutRedirectURIs) != 0 {
		t.Errorf("Client(cli) = %+v, want public, no secret, empty lists", got)
	}
	if _, err := s.Client(ctx, "nope"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("Client(unknown) = %v, want ErrNotFound", err)
	}
	if list, err := s.Clients(ctx); err != nil || len(list) != 2 || list[0].Name != "cli" || list[1].Name != "Grafana" {
		t.Errorf("Clients() = %+v, %v; want cli, Grafana", list, err)
	}
	at := t0.Add(time.Hour)
	if err := s.SetClientSecret(ctx, "c-grafana", hashOf("s2"), at); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, "c-grafana"); !bytes.Equal(got.SecretHash, hashOf("s2")) || !sameTime(got.UpdatedAt, at) {
		t.Errorf("after SetClientSecret = %+v", got)
	}
	if err := s.SetClientSecret(ctx, "nope", hashOf("x"), at); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SetClientSecret(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx, "c-cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, "c-cli"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("DeleteClient(again) = %v, want ErrNotFound", err)
	}
}
