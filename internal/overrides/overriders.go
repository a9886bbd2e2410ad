package overrides

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

// podSpecPath is the JSON pointer of the Pod spec of a workload kind, as
// the image, command and args overriders find it; "" for other kinds.
func podSpecPath(kind string) string {
	switch kind {
	case "Pod":
		return "/spec"
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job":
		return "/spec/template/spec"
	case "CronJob":
		return "/spec/jobTemplate/spec/template/spec"
	}
	return ""
}

// opError is an error of one operation at a path.
func opError(what string, op policyv1alpha1.OverriderOperator, path string, err error) error {
	return fmt.Errorf("%s %s %s: %w", what, op, path, err)
}

func applyPlaintext(doc map[string]any, o *policyv1alpha1.PlaintextOverrider) (map[string]any, error) {
	out, err := applyOp(doc, o.Path, o.Operator, o.Value)
	if err == nil {
		m, ok := out.(map[string]any)
		if !ok {
			err = errors.New("the object must remain a JSON object")
		} else {
			return m, nil
		}
	}
	return nil, opError("plaintext", o.Operator, o.Path, err)
}

func applyImage(doc map[string]any, kind string, o *policyv1alpha1.ImageOverrider) error {
	what := "imageOverrider " + string(o.Component)
	var paths []string
	if o.Predicate != nil {
		paths = []string{o.Predicate.Path}
	} else {
		base := podSpecPath(kind)
		if base == "" {
			return nil
		}
		toks, _ := parsePointer(base)
		spec, err := getPointer(doc, toks)
		if err != nil {
			return nil // no Pod spec: nothing to override
		}
		specMap, ok := spec.(map[string]any)
		if !ok {
			return opError(what, o.Operator, base, errors.New("not an object"))
		}
		for _, field := range []string{"initContainers", "containers"} {
			list, ok := specMap[field].([]any)
			if !ok {
				continue
			}
			for i, c := range list {
				if cm, ok := c.(map[string]any); ok {
					if _, has := cm["image"]; has {
						paths = append(paths, fmt.Sprintf("%s/%s/%d/image", base, field, i))
					}
				}
			}
		}
	}
	for _, p := range paths {
		toks, err := parsePointer(p)
		if err != nil {
			return opError(what, o.Operator, p, err)
		}
		v, err := getPointer(doc, toks)
		if err != nil {
			return opError(what, o.Operator, p, err)
		}
		image, ok := v.(string)
		if !ok {
			return opError(what, o.Operator, p, errors.New("not a string"))
		}
		newImage, err := overrideImage(image, o)
		if err != nil {
			return opError(what, o.Operator, p, err)
		}
		if _, err := patch(doc, toks, policyv1alpha1.OverriderOpReplace, newImage); err != nil {
			return opError(what, o.Operator, p, err)
		}
	}
	return nil
}

// applyCommandArgs changes field ("command" or "args") of the containers
// named o.ContainerName. Kinds without a Pod spec and absent containers are
// left alone, as in Karmada.
func applyCommandArgs(doc map[string]any, kind, field string, o *policyv1alpha1.CommandArgsOverrider) error {
	what := field + "Overrider"
	if o.Operator != policyv1alpha1.OverriderOpAdd && o.Operator != policyv1alpha1.OverriderOpRemove {
		return opError(what, o.Operator, o.ContainerName, fmt.Errorf("unsupported operator %q", o.Operator))
	}
	base := podSpecPath(kind)
	if base == "" || len(o.Value) == 0 {
		return nil
	}
	toks, _ := parsePointer(base + "/containers")
	v, err := getPointer(doc, toks)
	if err != nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return opError(what, o.Operator, base+"/containers", errors.New("not a list"))
	}
	for i, c := range list {
		cm, ok := c.(map[string]any)
		if !ok || cm["name"] != o.ContainerName {
			continue
		}
		path := fmt.Sprintf("%s/containers/%d/%s", base, i, field)
		var cur []any
		if raw, has := cm[field]; has && raw != nil {
			if cur, ok = raw.([]any); !ok {
				return opError(what, o.Operator, path, errors.New("not a list"))
			}
		}
		if o.Operator == policyv1alpha1.OverriderOpRemove && len(cur) == 0 {
			continue // nothing to remove; do not create the field
		}
		out := make([]any, 0, len(cur)+len(o.Value))
		if o.Operator == policyv1alpha1.OverriderOpAdd {
			out = append(out, cur...)
			for _, s := range o.Value {
				out = append(out, s)
			}
		} else {
			for _, item := range cur {
				if s, ok := item.(string); ok && slices.Contains(o.Value, s) {
					continue
				}
				out = append(out, item)
			}
		}
		cm[field] = out
	}
	return nil
}

// applyLabelsAnnotations changes metadata.<field>. As in Karmada, add sets
// the keys (creating the map), remove deletes the keys that exist and
// replace changes only the keys that exist.
func applyLabelsAnnotations(doc map[string]any, field string, o *policyv1alpha1.LabelAnnotationOverrider) error {
	what := field + "Overrider"
	path := "/metadata/" + field
	switch o.Operator {
	case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpRemove, policyv1alpha1.OverriderOpReplace:
	default:
		return opError(what, o.Operator, path, fmt.Errorf("unsupported operator %q", o.Operator))
	}
	if len(o.Value) == 0 {
		return nil
	}
	md, has := doc["metadata"]
	if !has || md == nil {
		if o.Operator != policyv1alpha1.OverriderOpAdd {
			return nil
		}
		md = map[string]any{}
		doc["metadata"] = md
	}
	mdm, ok := md.(map[string]any)
	if !ok {
		return opError(what, o.Operator, "/metadata", errors.New("not an object"))
	}
	var m map[string]any
	if raw, has := mdm[field]; has && raw != nil {
		if m, ok = raw.(map[string]any); !ok {
			return opError(what, o.Operator, path, errors.New("not an object"))
		}
	}
	if m == nil {
		if o.Operator != policyv1alpha1.OverriderOpAdd {
			return nil
		}
		m = map[string]any{}
		mdm[field] = m
	}
	for k, v := range o.Value {
		_, exists := m[k]
		switch o.Operator {
		case policyv1alpha1.OverriderOpAdd:
			m[k] = v
		case policyv1alpha1.OverriderOpReplace:
			if exists {
				m[k] = v
			}
		default:
			delete(m, k)
		}
	}
	return nil
}

// applyField edits the JSON or YAML document stored as a string at
// o.FieldPath and writes it back in the same format.
func applyField(doc map[string]any, o *policyv1alpha1.FieldOverrider) error {
	fail := func(format string, err error) error {
		return fmt.Errorf("fieldOverrider %s%s: %w", o.FieldPath, format, err)
	}
	if len(o.JSON) > 0 && len(o.YAML) > 0 {
		return fail("", errors.New("json and yaml are mutually exclusive"))
	}
	if len(o.JSON) == 0 && len(o.YAML) == 0 {
		return nil
	}
	toks, err := parsePointer(o.FieldPath)
	if err != nil {
		return fail("", err)
	}
	if len(toks) == 0 {
		return fail("", errors.New("fieldPath must not be the whole object"))
	}
	v, err := getPointer(doc, toks)
	if err != nil {
		return fail("", err)
	}
	s, ok := v.(string)
	if !ok {
		return fail("", errors.New("not a string"))
	}
	var (
		sub    any
		format = "json"
		raw    = []byte(s)
	)
	if len(o.YAML) > 0 {
		format = "yaml"
		if raw, err = yaml.YAMLToJSON(raw); err != nil {
			return fail("", fmt.Errorf("unparsable YAML: %v", err))
		}
	}
	if err := utiljson.Unmarshal(raw, &sub); err != nil {
		return fail("", fmt.Errorf("unparsable JSON: %v", err))
	}
	if format == "json" {
		for i := range o.JSON {
			p := &o.JSON[i]
			if sub, err = applyOp(sub, p.SubPath, p.Operator, p.Value); err != nil {
				return fail(fmt.Sprintf(" json[%d] %s %s", i, p.Operator, p.SubPath), err)
			}
		}
	} else {
		for i := range o.YAML {
			p := &o.YAML[i]
			if sub, err = applyOp(sub, p.SubPath, p.Operator, p.Value); err != nil {
				return fail(fmt.Sprintf(" yaml[%d] %s %s", i, p.Operator, p.SubPath), err)
			}
		}
	}
	out, err := json.Marshal(sub)
	if err != nil {
		return fail("", err)
	}
	if format == "yaml" {
		if out, err = yaml.JSONToYAML(out); err != nil {
			return fail("", err)
		}
	}
	if _, err := patch(doc, toks, policyv1alpha1.OverriderOpReplace, string(out)); err != nil {
		return fail("", err)
	}
	return nil
}
