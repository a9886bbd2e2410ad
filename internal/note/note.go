// Package note shortens human-readable texts to the limits the API puts on
// them (event notes, eviction task messages), so that a long list of
// clusters or a long taint key never makes a write fail.
package note

import "unicode/utf8"

// MaxEvent is the longest note events.k8s.io/v1 accepts, and the longest
// message of a graceful eviction task.
const MaxEvent = 1024

// Truncate shortens s to at most n bytes, ending in "...", without
// splitting a UTF-8 character.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "..."
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
