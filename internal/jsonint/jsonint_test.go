package jsonint

import (
	"encoding/json"
	"math"
	"testing"
)

func TestInt64(t *testing.T) {
	cases := []struct {
		in   any
		want int64
		ok   bool
	}{
		{int64(3), 3, true}, {int32(4), 4, true}, {5, 5, true}, {6.0, 6, true},
		{6.5, 0, false}, {json.Number("7"), 7, true}, {json.Number("7.5"), 0, false},
		{"8", 0, false}, {nil, 0, false},
	}
	for _, c := range cases {
		if got, ok := Int64(c.in); got != c.want || ok != c.ok {
			t.Errorf("Int64(%#v) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestClampInt32(t *testing.T) {
	for in, want := range map[int64]int32{-1: 0, 0: 0, 7: 7, math.MaxInt32 + 1: math.MaxInt32} {
		if got := ClampInt32(in); got != want {
			t.Errorf("ClampInt32(%d) = %d, want %d", in, got, want)
		}
	}
}
