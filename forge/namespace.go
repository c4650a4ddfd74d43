package forge

import (
	"strings"

	"murmur/identity"
)

// NamespacePrefix starts the name of every ref in a participant's
// namespace: refs/namespaces/<token>/refs/..., where <token> is
// NamespaceToken of the participant's key. Such a ref may be set by that
// participant alone, maintainer or not; every other ref is canonical and
// needs a maintainer. The layout is part of the signed op format.
const NamespacePrefix = "refs/namespaces/"

// NamespaceToken is the name of k's namespace: its did:key without the
// "did:key:" prefix (a git ref name cannot hold ':').
func NamespaceToken(k identity.PublicKey) string {
	return strings.TrimPrefix(k.DID(), "did:key:")
}

// SplitNamespace splits a ref name in a participant's namespace into the
// namespace token and the ref inside it (refs/heads/x); ok is false for
// a canonical ref, and for a name under NamespacePrefix with no ref
// inside.
func SplitNamespace(name string) (token, ref string, ok bool) {
	rest, ok := strings.CutPrefix(name, NamespacePrefix)
	if !ok {
		return "", name, false
	}
	token, ref, ok = strings.Cut(rest, "/")
	if !ok {
		return "", name, false
	}
	return token, ref, true
}

// NamespaceOwner returns the key whose namespace holds the ref name, or
// false for a canonical ref or a token that is not a key.
func NamespaceOwner(name string) (identity.PublicKey, bool) {
	token, _, ok := SplitNamespace(name)
	if !ok {
		return identity.PublicKey{}, false
	}
	k, err := identity.ParseDID("did:key:" + token)
	if err != nil || NamespaceToken(k) != token {
		return identity.PublicKey{}, false
	}
	return k, true
}

// checkRefSetName checks the name of a ref.set: a valid git ref name,
// and for a name under NamespacePrefix a participant's key as the token
// and a ref under refs/ (not a nested namespace) inside.
func checkRefSetName(name string) error {
	if err := checkRefName(name); err != nil {
		return err
	}
	if !strings.HasPrefix(name, NamespacePrefix) {
		return nil
	}
	_, ref, ok := SplitNamespace(name)
	if !ok {
		return invalid("ref name", "%q names a namespace but no ref inside it (refs/namespaces/<key>/refs/heads/<branch>)", name)
	}
	if _, ok := NamespaceOwner(name); !ok {
		return invalid("ref name", "%q: the namespace is not a participant's key (did:key without its prefix)", name)
	}
	if !strings.HasPrefix(ref, "refs/") || strings.HasPrefix(ref, NamespacePrefix) {
		return invalid("ref name", "%q: the ref inside a namespace must start with refs/ and not be another namespace", name)
	}
	return nil
}
