// Package template names and wraps native objects as ResourceTemplates
// (DESIGN §1).
package template

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLength is the longest object name the apiserver accepts for a
// DNS-subdomain name.
const maxNameLength = 253

// hashLength is how many hex digits of the identity's hash end the name.
const hashLength = 8

// Name derives the ResourceTemplate name for the wrapped object identified by
// group, kind, namespace and name. The result is deterministic, a valid DNS
// subdomain, and readable: "<kind>-<namespace>-<name>-<hash>" lowercased,
// with the namespace part left out for cluster-scoped objects. The hash is
// over the exact identity, so two identities never share a name even when
// sanitising or truncating makes their readable parts equal (for example a
// Deployment in group apps and a Deployment in a CRD group).
func Name(group, kind, namespace, name string) string {
	sum := sha256.Sum256([]byte(group + "/" + kind + "/" + namespace + "/" + name))
	hash := hex.EncodeToString(sum[:])[:hashLength]

	parts := []string{kind}
	if namespace != "" {
		parts = append(parts, namespace)
	}
	parts = append(parts, name)
	readable := sanitize(strings.Join(parts, "-"))
	if max := maxNameLength - hashLength - 1; len(readable) > max {
		readable = strings.TrimRight(readable[:max], "-.")
	}
	if readable == "" {
		return hash
	}
	return readable + "-" + hash
}

// sanitize lowercases s and replaces every character a DNS subdomain cannot
// hold with '-', collapsing runs, so that names like RBAC's
// "system:controller:foo" still give a valid template name.
func sanitize(s string) string {
	var b strings.Builder
	lastDash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
			lastDash = false
		default:
			if !lastDash {
				b.WriteByte('-')
			}
			lastDash = true
		}
	}
	return strings.Trim(b.String(), "-.")
}
