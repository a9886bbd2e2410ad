// Package jsonint reads integers out of decoded JSON (unstructured
// objects), whichever Go type the decoder chose for them.
package jsonint

import "encoding/json"

// Int64 converts an integer held as int64, int32, int, a whole float64 or a
// json.Number; anything else (or a fraction) is not an integer.
func Int64(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int:
		return int64(n), true
	case float64:
		if n != float64(int64(n)) {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// ClampInt32 keeps a count within 0..MaxInt32, the range of replica fields.
func ClampInt32(n int64) int32 {
	switch {
	case n < 0:
		return 0
	case n > int64(^uint32(0)>>1):
		return int32(^uint32(0) >> 1)
	}
	return int32(n)
}
