package tolerations

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const (
	ns = corev1.TaintEffectNoSchedule
	ne = corev1.TaintEffectNoExecute
)

func TestTolerates(t *testing.T) {
	seconds := int64(10)
	cases := []struct {
		name string
		tol  corev1.Toleration
		t    corev1.Taint
		want bool
	}{
		{"Exists on key ignores the value", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists}, corev1.Taint{Key: "k", Value: "v", Effect: ne}, true},
		{"Exists with the same effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: ne}, corev1.Taint{Key: "k", Effect: ne}, true},
		{"Exists with another effect", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Effect: ns}, corev1.Taint{Key: "k", Effect: ne}, false},
		{"empty key with Exists matches every key", corev1.Toleration{Operator: corev1.TolerationOpExists}, corev1.Taint{Key: "anything", Effect: ne}, true},
		{"empty key with Exists and an effect", corev1.Toleration{Operator: corev1.TolerationOpExists, Effect: ns}, corev1.Taint{Key: "anything", Effect: ne}, false},
		{"Equal compares the value", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "w"}, corev1.Taint{Key: "k", Value: "v", Effect: ns}, false},
		{"Equal with the same value", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpEqual, Value: "v"}, corev1.Taint{Key: "k", Value: "v", Effect: ns}, true},
		{"empty operator is Equal", corev1.Toleration{Key: "k", Value: "v"}, corev1.Taint{Key: "k", Value: "v", Effect: ne}, true},
		{"empty operator, no value, against a value", corev1.Toleration{Key: "k"}, corev1.Taint{Key: "k", Value: "v", Effect: ne}, false},
		{"other key", corev1.Toleration{Key: "j", Operator: corev1.TolerationOpExists}, corev1.Taint{Key: "k", Effect: ns}, false},
		{"tolerationSeconds does not matter", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, TolerationSeconds: &seconds}, corev1.Taint{Key: "k", Effect: ne}, true},
		{"Gt", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "3"}, corev1.Taint{Key: "k", Value: "5", Effect: ns}, true},
		{"Lt", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpLt, Value: "3"}, corev1.Taint{Key: "k", Value: "5", Effect: ns}, false},
		{"Gt with a value that is no number", corev1.Toleration{Key: "k", Operator: corev1.TolerationOpGt, Value: "3"}, corev1.Taint{Key: "k", Value: "x", Effect: ns}, false},
		{"unknown operator", corev1.Toleration{Key: "k", Operator: "Maybe"}, corev1.Taint{Key: "k", Effect: ns}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Tolerates(&tc.tol, &tc.t); got != tc.want {
				t.Errorf("Tolerates = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUntolerated(t *testing.T) {
	exists := func(key string) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists}
	}
	cases := []struct {
		name   string
		taints []corev1.Taint
		tols   []corev1.Toleration
		want   string // the taint's key, "" for nil
	}{
		{"no taints", nil, nil, ""},
		{"no tolerations", []corev1.Taint{{Key: "a", Effect: ns}}, nil, "a"},
		{"PreferNoSchedule never counts", []corev1.Taint{{Key: "a", Effect: corev1.TaintEffectPreferNoSchedule}}, nil, ""},
		{"the first untolerated one", []corev1.Taint{{Key: "a", Effect: ns}, {Key: "b", Effect: ne}, {Key: "c", Effect: ne}}, []corev1.Toleration{exists("a")}, "b"},
		{"all tolerated", []corev1.Taint{{Key: "a", Effect: ns}, {Key: "b", Effect: ne}}, []corev1.Toleration{exists("a"), exists("b")}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Untolerated(tc.taints, tc.tols)
			key := ""
			if got != nil {
				key = got.Key
			}
			if key != tc.want {
				t.Errorf("Untolerated = %q, want %q", key, tc.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	if got := Format(&corev1.Taint{Key: "k", Effect: ne}); got != "k:NoExecute" {
		t.Errorf("without value: %q", got)
	}
	if got := Format(&corev1.Taint{Key: "k", Value: "v", Effect: ns}); got != "k=v:NoSchedule" {
		t.Errorf("with value: %q", got)
	}
}
