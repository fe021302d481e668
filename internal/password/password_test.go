package password

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// fast keeps tests quick; the production parameters are tested once.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashCheck(t *testing.T) {
	h, err := Hash("correct horse", fast)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("Hash = %q, want PHC argon2id prefix", h)
	}
	h2, _ := Hash("correct horse", fast)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	tests := []struct {
		name       string
		pw         string
		want       Params
		ok, rehash bool
	}{
		{name: "right", pw: "correct horse", want: fast, ok: true},
		{name: "wrong", pw: "correct horsf", want: fast},
		{name: "empty", pw: "", want: fast},
		{name: "params changed", pw: "correct horse", want: OWASP, ok: true, rehash: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := Check(h, tt.pw, tt.want)
			if err != nil || ok != tt.ok || rehash != tt.rehash {
				t.Errorf("Check(%q) = %v, %v, %v; want %v, %v, nil", tt.pw, ok, rehash, err, tt.ok, tt.rehash)
			}
		})
	}
}

func TestOWASPParams(t *testing.T) {
	if OWASP.Memory < 19*1024 || OWASP.Time < 2 || OWASP.Threads < 1 {
		t.Fatalf("OWASP params %+v below the cheat sheet's minimum (m=19456,t=2,p=1)", OWASP)
	}
	h, err := Hash("pw", OWASP)
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := Check(h, "pw", OWASP); !ok || rehash || err != nil {
		t.Fatalf("Check(OWASP hash) = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestBcryptImport(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := Check(string(b), "s3cret", fast); !ok || !rehash || err != nil {
		t.Errorf("Check(bcrypt, right) = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	if ok, _, err := Check(string(b), "nope", fast); ok || err != nil {
		t.Errorf("Check(bcrypt, wrong) = %v, %v; want false, nil", ok, err)
	}
}

func TestCheckMalformed(t *testing.T) {
	for _, enc := range []string{
		"",
		"plaintext",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!!$a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$",
		"$2b$04$invalid",
		"$2a$20A00000000000000000000000000000002000000000000000000000", // found by fuzzing: cost 20 ran for minutes
		"$2b$31$" + strings.Repeat("a", 53),
	} {
		ok, _, err := Check(enc, "pw", fast)
		if ok || !errors.Is(err, ErrMalformed) {
			t.Errorf("Check(%q) = %v, %v; want false, ErrMalformed", enc, ok, err)
		}
	}
}

// FuzzDecode feeds arbitrary stored-hash strings to the PHC parser. The
// property: whatever parses has in-range parameters and survives a round
// trip through encode unchanged, so what is stored is what is checked.
func FuzzDecode(f *testing.F) {
	h, _ := Hash("pw", fast)
	f.Add(h)
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=064,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Fuzz(func(t *testing.T, enc string) {
		p, salt, key, err := decode(enc)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode(%q) error %v does not wrap ErrMalformed", enc, err)
			}
			return
		}
		if p.Memory > maxMemory || p.Time > maxTime || p.Time < 1 || p.Threads < 1 {
			t.Fatalf("decode(%q) accepted out-of-range params %+v", enc, p)
		}
		p2, salt2, key2, err := decode(encode(p, salt, key))
		if err != nil || p2 != p || string(salt2) != string(salt) || string(key2) != string(key) {
			t.Fatalf("round trip of %q: %+v %v", enc, p2, err)
		}
	})
}

func BenchmarkHashOWASP(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple", OWASP); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDummy(t *testing.T) {
	d := Dummy(fast)
	for _, pw := range []string{"", "password", "\x00"} {
		ok, rehash, err := Check(d, pw, fast)
		if ok || rehash || err != nil {
			t.Errorf("Check(Dummy, %q) = %v, %v, %v; want a well-formed non-match", pw, ok, rehash, err)
		}
	}
}
