package overrides

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// errPathNotFound is returned when a remove or replace (or the parent of an
// add) does not exist.
var errPathNotFound = errors.New("path not found")

// parsePointer splits an RFC 6901 JSON pointer into unescaped tokens. The
// empty pointer designates the whole document and yields no tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, errors.New("invalid JSON pointer: must be empty or start with '/'")
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(t, "~0", ""), "~1", ""), "~") {
			return nil, fmt.Errorf("invalid JSON pointer: bad escape in %q", t)
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// arrayIndex parses an RFC 6901 array index (no sign, no leading zeros) and
// checks it against max (inclusive when the caller allows appending).
func arrayIndex(tok string, max int) (int, error) {
	if tok == "" || (len(tok) > 1 && tok[0] == '0') || strings.TrimLeft(tok, "0123456789") != "" {
		return 0, fmt.Errorf("invalid array index %q", tok)
	}
	i, err := strconv.Atoi(tok)
	if err != nil {
		return 0, fmt.Errorf("invalid array index %q", tok)
	}
	if i > max {
		return 0, errPathNotFound
	}
	return i, nil
}

// getPointer returns the value at toks in doc.
func getPointer(doc any, toks []string) (any, error) {
	cur := doc
	for _, tok := range toks {
		switch n := cur.(type) {
		case map[string]any:
			v, ok := n[tok]
			if !ok {
				return nil, errPathNotFound
			}
			cur = v
		case []any:
			i, err := arrayIndex(tok, len(n)-1)
			if err != nil {
				return nil, err
			}
			cur = n[i]
		default:
			return nil, errPathNotFound
		}
	}
	return cur, nil
}

// patch applies one RFC 6902 add, remove or replace operation at toks in
// node and returns the new node. Maps are changed in place; the caller
// works on a copy.
func patch(node any, toks []string, op policyv1alpha1.OverriderOperator, value any) (any, error) {
	if len(toks) == 0 {
		switch op {
		case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpReplace:
			return value, nil
		case policyv1alpha1.OverriderOpRemove:
			return nil, errors.New("cannot remove the whole document")
		}
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	tok, last := toks[0], len(toks) == 1
	switch n := node.(type) {
	case map[string]any:
		if last {
			_, exists := n[tok]
			switch op {
			case policyv1alpha1.OverriderOpAdd:
				n[tok] = value
			case policyv1alpha1.OverriderOpReplace:
				if !exists {
					return nil, errPathNotFound
				}
				n[tok] = value
			case policyv1alpha1.OverriderOpRemove:
				if !exists {
					return nil, errPathNotFound
				}
				delete(n, tok)
			default:
				return nil, fmt.Errorf("unsupported operator %q", op)
			}
			return n, nil
		}
		child, ok := n[tok]
		if !ok {
			return nil, errPathNotFound
		}
		nc, err := patch(child, toks[1:], op, value)
		if err != nil {
			return nil, err
		}
		n[tok] = nc
		return n, nil
	case []any:
		if last && op == policyv1alpha1.OverriderOpAdd {
			i := len(n)
			if tok != "-" {
				var err error
				if i, err = arrayIndex(tok, len(n)); err != nil {
					return nil, err
				}
			}
			out := make([]any, 0, len(n)+1)
			out = append(out, n[:i]...)
			out = append(out, value)
			return append(out, n[i:]...), nil
		}
		i, err := arrayIndex(tok, len(n)-1)
		if err != nil {
			return nil, err
		}
		if !last {
			nc, err := patch(n[i], toks[1:], op, value)
			if err != nil {
				return nil, err
			}
			n[i] = nc
			return n, nil
		}
		switch op {
		case policyv1alpha1.OverriderOpReplace:
			n[i] = value
			return n, nil
		case policyv1alpha1.OverriderOpRemove:
			out := make([]any, 0, len(n)-1)
			out = append(out, n[:i]...)
			return append(out, n[i+1:]...), nil
		}
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	return nil, errPathNotFound
}

// decodeValue decodes the value of an add or replace. Integers become int64
// and other numbers float64, as in unstructured objects.
func decodeValue(op policyv1alpha1.OverriderOperator, v apiextensionsv1.JSON) (any, error) {
	if op == policyv1alpha1.OverriderOpRemove {
		return nil, nil
	}
	if len(v.Raw) == 0 {
		return nil, errors.New("value is required")
	}
	var out any
	if err := utiljson.Unmarshal(v.Raw, &out); err != nil {
		return nil, fmt.Errorf("malformed value: %v", err)
	}
	return out, nil
}

// applyOp parses path, decodes value and applies the operation to doc.
func applyOp(doc any, path string, op policyv1alpha1.OverriderOperator, value apiextensionsv1.JSON) (any, error) {
	switch op {
	case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpRemove, policyv1alpha1.OverriderOpReplace:
	default:
		return nil, fmt.Errorf("unsupported operator %q", op)
	}
	toks, err := parsePointer(path)
	if err != nil {
		return nil, err
	}
	v, err := decodeValue(op, value)
	if err != nil {
		return nil, err
	}
	return patch(doc, toks, op, v)
}
