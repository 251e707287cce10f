package auth

import "testing"

// DummyVerify only costs a real verification if its hash parses, with the
// parameters of new hashes.
func TestDummyHashParses(t *testing.T) {
	t.Parallel()
	h, ok := parseHash(dummyHash)
	if !ok {
		t.Fatalf("parseHash(%q) failed", dummyHash)
	}
	if h.memory != argonMemory || h.time != argonTime || h.threads != argonThreads || len(h.key) != argonKeyLen {
		t.Errorf("dummy hash parameters = %+v, want those of HashPassword", h)
	}
}
