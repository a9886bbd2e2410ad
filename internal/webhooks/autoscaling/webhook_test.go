package autoscaling

import (
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	autoscalingv1alpha1 "argosy.dev/argosy/api/autoscaling/v1alpha1"
)

func TestValidateCron(t *testing.T) {
	cases := []struct {
		schedule string
		tz       *string
		want     string // field in the error; "" means valid
	}{
		{"0 8 * * 1-5", nil, ""},
		{"@daily", ptr.To("Europe/Berlin"), ""},
		{"*/15 * * * *", ptr.To("UTC"), ""},
		{"61 * * * *", nil, "spec.rules[0].schedule"},
		{"0 8 * * MON-XYZ", nil, "spec.rules[0].schedule"},
		{"0 8 * * *", ptr.To("Mars/Olympus"), "spec.rules[0].timeZone"},
	}
	for _, c := range cases {
		t.Run(c.schedule, func(t *testing.T) {
			cron := &autoscalingv1alpha1.CronFederatedHPA{ObjectMeta: metav1.ObjectMeta{Name: "c"},
				Spec: autoscalingv1alpha1.CronFederatedHPASpec{Rules: []autoscalingv1alpha1.CronFederatedHPARule{{Name: "r", Schedule: c.schedule, TimeZone: c.tz}}}}
			err := validateCron(cron)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one naming %s", err, c.want)
			}
		})
	}
}

func TestDefaultFederatedHPA(t *testing.T) {
	spec := autoscalingv1alpha1.FederatedHPASpec{MaxReplicas: 5,
		Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)}}}
	DefaultFederatedHPA(&spec)
	if *spec.MinReplicas != 1 {
		t.Errorf("minReplicas %d, want 1", *spec.MinReplicas)
	}
	if len(spec.Metrics) != 1 || spec.Metrics[0].Resource == nil || *spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Errorf("metrics %+v, want CPU 80%%", spec.Metrics)
	}
	if *spec.Behavior.ScaleDown.StabilizationWindowSeconds != 60 || len(spec.Behavior.ScaleDown.Policies) != 1 {
		t.Errorf("scaleDown %+v: own window must stay, default policy added", spec.Behavior.ScaleDown)
	}
	if up := spec.Behavior.ScaleUp; up == nil || *up.StabilizationWindowSeconds != 0 || len(up.Policies) != 2 || *up.SelectPolicy != autoscalingv2.MaxChangePolicySelect {
		t.Errorf("scaleUp %+v, want the Kubernetes defaults", up)
	}

	noBehavior := autoscalingv1alpha1.FederatedHPASpec{MaxReplicas: 5, MinReplicas: ptr.To[int32](2)}
	DefaultFederatedHPA(&noBehavior)
	if noBehavior.Behavior != nil || *noBehavior.MinReplicas != 2 {
		t.Errorf("got %+v: behavior must stay unset and minReplicas 2", noBehavior)
	}
}

func TestValidateFederatedHPAMetrics(t *testing.T) {
	h := &autoscalingv1alpha1.FederatedHPA{ObjectMeta: metav1.ObjectMeta{Name: "h"}, Spec: autoscalingv1alpha1.FederatedHPASpec{MaxReplicas: 3, Metrics: []autoscalingv2.MetricSpec{}}}
	if err := validateFHPA(h); err == nil || !strings.Contains(err.Error(), "spec.metrics") {
		t.Fatalf("empty metrics: %v, want an error naming spec.metrics", err)
	}
}
