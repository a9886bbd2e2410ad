package note

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		want     string
	}{
		{"short enough", "abc", 3, "abc"},
		{"cut with an ellipsis", "abcdefgh", 6, "abc..."},
		{"never splits a character", "ab€€", 7, "ab..."},
		{"a character that fits stays", "ab€€€", 8, "ab€..."},
	}
	for _, c := range cases {
		got := Truncate(c.in, c.n)
		if got != c.want || len(got) > c.n || !utf8.ValidString(got) {
			t.Errorf("%s: Truncate(%q, %d) = %q, want %q", c.name, c.in, c.n, got, c.want)
		}
	}
	if got := Truncate(strings.Repeat("x", 5000), MaxEvent); len(got) != MaxEvent {
		t.Errorf("long note: %d bytes, want %d", len(got), MaxEvent)
	}
}
