package cairn

import (
	"crypto/rand"
	"strings"
)

// ID prefixes, as in the control-plane API Cairn models (seed 001).
const (
	PrefixTenant       = "org"
	PrefixUser         = "user"
	PrefixRoleBinding  = "rb"
	PrefixService      = "s"
	PrefixEnvironment  = "se"
	PrefixModel        = "sm"
	PrefixTier         = "pt"
	PrefixResource     = "r"
	PrefixSubscription = "sub"
	PrefixInstance     = "instance"
)

const idAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

// NewID returns a new random ID with the prefix, e.g. "instance-um60g2esx".
func NewID(prefix string) string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + "-" + string(b[:])
}

// IDPrefix returns the prefix of id ("s" for "s-12345678"), or "" if id has none.
func IDPrefix(id string) string {
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return ""
	}
	return id[:i]
}
