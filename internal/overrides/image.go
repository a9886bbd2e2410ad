package overrides

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

var (
	tagRe    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}$`)
	repoRe   = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
)

// imageRef is a container image reference [registry/]repository[:tag][@digest].
type imageRef struct {
	registry, repository, tag, digest string
}

// parseImage splits an image reference. The first path component is the
// registry only when it contains '.' or ':' or is "localhost", as Docker
// decides.
func parseImage(s string) (imageRef, error) {
	var r imageRef
	if s == "" {
		return r, errors.New("empty image")
	}
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		r.digest, rest = rest[i+1:], rest[:i]
		if !digestRe.MatchString(r.digest) {
			return r, fmt.Errorf("invalid digest in image %q", s)
		}
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		if first := rest[:i]; strings.ContainsAny(first, ".:") || first == "localhost" {
			r.registry, rest = first, rest[i+1:]
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		r.tag, rest = rest[i+1:], rest[:i]
		if !tagRe.MatchString(r.tag) {
			return r, fmt.Errorf("invalid tag in image %q", s)
		}
	}
	r.repository = rest
	if !repoRe.MatchString(r.repository) {
		return r, fmt.Errorf("invalid repository in image %q", s)
	}
	if r.registry != "" && strings.ContainsAny(r.registry, " \t/@") {
		return r, fmt.Errorf("invalid registry in image %q", s)
	}
	return r, nil
}

func (r imageRef) String() string {
	var b strings.Builder
	if r.registry != "" {
		b.WriteString(r.registry)
		b.WriteByte('/')
	}
	b.WriteString(r.repository)
	if r.tag != "" {
		b.WriteByte(':')
		b.WriteString(r.tag)
	}
	if r.digest != "" {
		b.WriteByte('@')
		b.WriteString(r.digest)
	}
	return b.String()
}

// setTagOrDigest sets the tag, or the digest when v starts with '@' or has
// the form algorithm:hex; the other one is cleared. A leading ':' is
// dropped.
func (r *imageRef) setTagOrDigest(v string) {
	v = strings.TrimPrefix(v, ":")
	r.tag, r.digest = "", ""
	switch {
	case strings.HasPrefix(v, "@"):
		r.digest = v[1:]
	case strings.Contains(v, ":"):
		r.digest = v
	default:
		r.tag = v
	}
}

// overrideImage applies one ImageOverrider to image. As in Karmada, add
// appends value to the current component (so adding a registry to an image
// without one sets it), replace sets it and remove clears it.
func overrideImage(image string, o *policyv1alpha1.ImageOverrider) (string, error) {
	r, err := parseImage(image)
	if err != nil {
		return "", err
	}
	op := o.Operator
	if op != policyv1alpha1.OverriderOpAdd && op != policyv1alpha1.OverriderOpRemove && op != policyv1alpha1.OverriderOpReplace {
		return "", fmt.Errorf("unsupported operator %q", op)
	}
	if op != policyv1alpha1.OverriderOpRemove && o.Value == "" {
		return "", errors.New("value is required")
	}
	switch o.Component {
	case policyv1alpha1.Registry:
		switch op {
		case policyv1alpha1.OverriderOpAdd:
			r.registry += o.Value
		case policyv1alpha1.OverriderOpReplace:
			r.registry = o.Value
		default:
			r.registry = ""
		}
	case policyv1alpha1.Repository:
		switch op {
		case policyv1alpha1.OverriderOpAdd:
			r.repository += o.Value
		case policyv1alpha1.OverriderOpReplace:
			r.repository = o.Value
		default:
			return "", errors.New("cannot remove the repository of an image")
		}
	case policyv1alpha1.Tag:
		switch op {
		case policyv1alpha1.OverriderOpAdd:
			switch {
			case r.tag != "":
				r.tag += o.Value
			case r.digest != "":
				r.digest += o.Value
			default:
				r.setTagOrDigest(o.Value)
			}
		case policyv1alpha1.OverriderOpReplace:
			r.setTagOrDigest(o.Value)
		default:
			r.tag, r.digest = "", ""
		}
	default:
		return "", fmt.Errorf("unsupported component %q", o.Component)
	}
	out := r.String()
	if _, err := parseImage(out); err != nil {
		return "", fmt.Errorf("result %q is not a valid image", out)
	}
	return out, nil
}
