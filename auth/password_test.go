package auth_test

import (
	"strings"
	"testing"

	"github.com/cairn-dev/cairn"
	"github.com/cairn-dev/cairn/auth"
)

func TestHashPassword(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		hash, err := auth.HashPassword("correct horse battery")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=2,p=2$") {
			t.Errorf("hash = %q, want the argon2id PHC prefix", hash)
		}
		if parts := strings.Split(hash, "$"); len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
			t.Errorf("hash = %q, want a 16-byte salt and a 32-byte key in unpadded base64", hash)
		}
		if !auth.VerifyPassword(hash, "correct horse battery") {
			t.Error("VerifyPassword(hash, password) = false, want true")
		}
		if auth.VerifyPassword(hash, "correct horse batterY") {
			t.Error("VerifyPassword(hash, wrong password) = true, want false")
		}
	})

	t.Run("SaltedDifferently", func(t *testing.T) {
		t.Parallel()
		a, _ := auth.HashPassword("same password")
		b, _ := auth.HashPassword("same password")
		if a == b {
			t.Error("two hashes of the same password are equal; the salt is not random")
		}
	})

	t.Run("ErrPasswordTooShort", func(t *testing.T) {
		t.Parallel()
		// Eight characters but sixteen bytes pass; seven characters fail.
		if _, err := auth.HashPassword("éééééééé"); err != nil {
			t.Errorf("HashPassword(8 characters) = %v, want no error", err)
		}
		_, err := auth.HashPassword("ééééééé")
		if code := cairn.ErrorCode(err); code != cairn.EBADINPUT {
			t.Fatalf("code = %q, want %q (err %v)", code, cairn.EBADINPUT, err)
		}
		if field := cairn.ErrorField(err); field != "input.password" {
			t.Errorf("field = %q, want input.password", field)
		}
		want := "Password is too short (7 characters): use at least 8 characters."
		if msg := cairn.ErrorMessage(err); msg != want {
			t.Errorf("message = %q, want %q", msg, want)
		}
	})
}

// Reference vectors of the Argon2 authors (P-H-C/phc-winner-argon2, src/test.c),
// both of the password "password" with the salt "somesalt".
const (
	refHash      = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	refHashCheap = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
)

func TestVerifyPassword(t *testing.T) {
	t.Parallel()

	t.Run("ReferenceVectors", func(t *testing.T) {
		t.Parallel()
		for _, hash := range []string{refHash, refHashCheap} {
			if !auth.VerifyPassword(hash, "password") {
				t.Errorf("VerifyPassword(%q, password) = false, want true", hash)
			}
			if auth.VerifyPassword(hash, "Password") {
				t.Errorf("VerifyPassword(%q, Password) = true, want false", hash)
			}
		}
	})

	// Each malformed variant of refHashCheap matches nothing, not even "password".
	valid := refHashCheap
	for _, tt := range []struct{ name, hash string }{
		{"Empty", ""},
		{"NotPHC", "password"},
		{"Bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"Argon2i", strings.Replace(valid, "argon2id", "argon2i", 1)},
		{"OldVersion", strings.Replace(valid, "v=19", "v=16", 1)},
		{"NoVersion", strings.Replace(valid, "$v=19", "", 1)},
		{"ParamsReordered", strings.Replace(valid, "m=256,t=2,p=1", "t=2,m=256,p=1", 1)},
		{"ParamMissing", strings.Replace(valid, "m=256,t=2,p=1", "m=256,t=2", 1)},
		{"ParamExtra", strings.Replace(valid, "p=1", "p=1,k=1", 1)},
		{"ParamNotNumber", strings.Replace(valid, "t=2", "t=x", 1)},
		{"ParamSigned", strings.Replace(valid, "t=2", "t=+2", 1)},
		{"ParamNegative", strings.Replace(valid, "t=2", "t=-2", 1)},
		{"ZeroTime", strings.Replace(valid, "t=2", "t=0", 1)},
		{"ZeroThreads", strings.Replace(valid, "p=1", "p=0", 1)},
		{"ThreadsOverflow", strings.Replace(valid, "p=1", "p=257", 1)},
		{"MemoryBelowThreads", strings.Replace(valid, "m=256,t=2,p=1", "m=8,t=2,p=2", 1)},
		{"MemoryTooLarge", strings.Replace(valid, "m=256", "m=4194304", 1)},
		{"TimeTooLarge", strings.Replace(valid, "t=2", "t=1000", 1)},
		{"SaltNotBase64", strings.Replace(valid, "c29tZXNhbHQ", "c29tZX!hbHQ", 1)},
		{"SaltPadded", strings.Replace(valid, "c29tZXNhbHQ", "c29tZXNhbHQ=", 1)},
		{"SaltTooShort", strings.Replace(valid, "c29tZXNhbHQ", "c2FsdA", 1)},
		{"KeyTooShort", strings.Replace(valid, "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "nf65EOgLrQMR/uIPnA4rEs", 1)},
		{"KeyEmpty", strings.Replace(valid, "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "", 1)},
		{"KeyAltered", strings.Replace(valid, "nf65", "nf66", 1)},
		{"TrailingField", valid + "$x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if auth.VerifyPassword(tt.hash, "password") {
				t.Errorf("VerifyPassword(%q, password) = true, want false", tt.hash)
			}
		})
	}
}

func TestDummyVerify(t *testing.T) {
	t.Parallel()
	auth.DummyVerify("any password") // must not panic; its cost is checked inside the package
}
