package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cairn-dev/cairn"
	"golang.org/x/crypto/argon2"
)

// MinPasswordLength is the shortest password HashPassword accepts, in characters.
const MinPasswordLength = 8

// Parameters of new hashes (RFC 9106's second recommended option, with 2 lanes).
// VerifyPassword reads the parameters from each hash, so these may change
// without invalidating stored hashes.
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 2
	argonThreads = 2
	argonSaltLen = 16
	argonKeyLen  = 32
)

// Bounds on the parameters VerifyPassword accepts, so that a corrupt hash
// cannot make one sign-in allocate gigabytes or run for minutes.
const (
	maxArgonMemory = 1024 * 1024 // KiB, 1 GiB
	maxArgonTime   = 16
	minArgonSalt   = 8
	minArgonKey    = 16
	maxArgonKey    = 64
)

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id hash of password in the PHC string format,
// "$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>", with a random 16-byte salt.
// Returns BAD_USER_INPUT on field "input.password" if password is shorter than
// MinPasswordLength characters.
func HashPassword(password string) (string, error) {
	if n := utf8.RuneCountInString(password); n < MinPasswordLength {
		return "", cairn.FieldError("input.password",
			"Password is too short (%d characters): use at least %d characters.", n, MinPasswordLength)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: reading salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return encodeHash(argonMemory, argonTime, argonThreads, salt, key), nil
}

// VerifyPassword reports whether password matches the argon2id hash encoded,
// in constant time. A malformed hash, or one with out-of-range parameters,
// matches no password.
func VerifyPassword(encoded, password string) bool {
	h, ok := parseHash(encoded)
	if !ok {
		return false
	}
	key := argon2.IDKey([]byte(password), h.salt, h.time, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// dummyHash has the parameters of new hashes and matches no password in
// practice (its key is not derived from any salt and password).
var dummyHash = encodeHash(argonMemory, argonTime, argonThreads,
	make([]byte, argonSaltLen), make([]byte, argonKeyLen))

// DummyVerify costs what VerifyPassword costs on a hash made by HashPassword,
// and always fails. Call it when sign-in finds no user with the given email, so
// that an unknown email answers as slowly as a wrong password and timing does
// not reveal which emails have accounts.
func DummyVerify(password string) {
	VerifyPassword(dummyHash, password)
}

func encodeHash(memory, time uint32, threads uint8, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memory, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

type argonHash struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

// parseHash parses a PHC argon2id string strictly: the version must be 19 and
// the parameters must appear as m, t, p in that order.
func parseHash(encoded string) (argonHash, bool) {
	var h argonHash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" ||
		parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return h, false
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return h, false
	}
	m, okM := param(params[0], "m=", 32)
	t, okT := param(params[1], "t=", 32)
	p, okP := param(params[2], "p=", 8)
	if !okM || !okT || !okP || p < 1 || t < 1 || t > maxArgonTime ||
		m < 8*p || m > maxArgonMemory {
		return h, false
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minArgonSalt {
		return h, false
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil || len(key) < minArgonKey || len(key) > maxArgonKey {
		return h, false
	}
	return argonHash{memory: uint32(m), time: uint32(t), threads: uint8(p), salt: salt, key: key}, true
}

// param parses "name=<decimal>" into an unsigned integer of the given size.
func param(s, name string, bits int) (uint64, bool) {
	v, ok := strings.CutPrefix(s, name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, bits)
	return n, err == nil
}
