// Package autoscaling is the admission webhook of FederatedHPAs and
// CronFederatedHPAs. FederatedHPAs get the defaults of a Kubernetes
// HorizontalPodAutoscaler, as in Karmada (minReplicas 1; the CRD itself
// defaults an absent metrics list to CPU utilization 80%; a behavior that
// is set gets the default scale-up and scale-down rules it lacks), and an
// explicitly empty metrics list is rejected. CronFederatedHPAs are rejected
// when a schedule or time zone does not parse with the parser the cron
// controller uses (ParseRule). Bounds, enums and min <= max are CEL rules
// of the CRDs.
package autoscaling

import (
	"context"
	"fmt"
	"time"
	// The manager's image may carry no zoneinfo: time zones must resolve
	// the same everywhere the webhook runs.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	autoscalingv1alpha1 "argosy.dev/argosy/api/autoscaling/v1alpha1"
	"argosy.dev/argosy/internal/webhooks/fieldcheck"
)

// +kubebuilder:webhook:path=/mutate-autoscaling-argosy-dev-v1alpha1-federatedhpa,mutating=true,failurePolicy=fail,sideEffects=None,groups=autoscaling.argosy.dev,resources=federatedhpas,verbs=create;update,versions=v1alpha1,name=mfederatedhpa.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-autoscaling-argosy-dev-v1alpha1-federatedhpa,mutating=false,failurePolicy=fail,sideEffects=None,groups=autoscaling.argosy.dev,resources=federatedhpas,verbs=create;update,versions=v1alpha1,name=vfederatedhpa.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10
// +kubebuilder:webhook:path=/validate-autoscaling-argosy-dev-v1alpha1-cronfederatedhpa,mutating=false,failurePolicy=fail,sideEffects=None,groups=autoscaling.argosy.dev,resources=cronfederatedhpas,verbs=create;update,versions=v1alpha1,name=vcronfederatedhpa.argosy.dev,admissionReviewVersions=v1,timeoutSeconds=10

// Webhook defaults and validates both autoscaling kinds.
type Webhook struct{}

// SetupWithManager registers the webhooks.
func (w *Webhook) SetupWithManager(_ context.Context, mgr ctrl.Manager) error {
	if err := ctrl.NewWebhookManagedBy(mgr, &autoscalingv1alpha1.FederatedHPA{}).
		WithDefaulter(fhpa{}).
		WithValidator(fhpa{}).
		Complete(); err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, &autoscalingv1alpha1.CronFederatedHPA{}).
		WithValidator(cronFHPA{}).
		Complete()
}

// ParseRule parses a CronFederatedHPA rule's schedule in its time zone
// (the manager's local zone when unset). The cron controller must use it
// too, so that what the webhook admits is what runs.
func ParseRule(schedule string, timeZone *string) (cron.Schedule, error) {
	if timeZone != nil && *timeZone != "" {
		if _, err := time.LoadLocation(*timeZone); err != nil {
			return nil, fmt.Errorf("unknown time zone %q: %v", *timeZone, err)
		}
		// robfig/cron reads the zone from a CRON_TZ prefix; the CRD forbids
		// users to write one themselves.
		schedule = "CRON_TZ=" + *timeZone + " " + schedule
	}
	return cron.ParseStandard(schedule)
}

type fhpa struct{}

// Default fills minReplicas and the behavior rules as the Kubernetes HPA
// defaulting does.
func (fhpa) Default(_ context.Context, h *autoscalingv1alpha1.FederatedHPA) error {
	DefaultFederatedHPA(&h.Spec)
	return nil
}

// DefaultFederatedHPA fills what a spec lacks and leaves the rest alone.
func DefaultFederatedHPA(spec *autoscalingv1alpha1.FederatedHPASpec) {
	if spec.MinReplicas == nil {
		spec.MinReplicas = ptr.To(autoscalingv1alpha1.DefaultFederatedHPAMinReplicas)
	}
	if spec.Metrics == nil {
		// Only reached without the CRD's own default (an old CRD): the
		// validator below rejects an explicitly empty list instead.
		spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(autoscalingv1alpha1.DefaultCPUUtilization)}},
		}}
	}
	if b := spec.Behavior; b != nil {
		b.ScaleUp = scalingRules(b.ScaleUp, 0, []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		})
		b.ScaleDown = scalingRules(b.ScaleDown, 300, []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		})
	}
}

// scalingRules fills the unset parts of r with the Kubernetes defaults.
func scalingRules(r *autoscalingv2.HPAScalingRules, window int32, policies []autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = ptr.To(window)
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = ptr.To(autoscalingv2.MaxChangePolicySelect)
	}
	if r.Policies == nil {
		r.Policies = policies
	}
	return r
}

func (fhpa) ValidateCreate(_ context.Context, h *autoscalingv1alpha1.FederatedHPA) (admission.Warnings, error) {
	return nil, validateFHPA(h)
}

func (fhpa) ValidateUpdate(_ context.Context, old, h *autoscalingv1alpha1.FederatedHPA) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(old.Spec, h.Spec) {
		return nil, nil
	}
	return nil, validateFHPA(h)
}

func (fhpa) ValidateDelete(context.Context, *autoscalingv1alpha1.FederatedHPA) (admission.Warnings, error) {
	return nil, nil
}

func validateFHPA(h *autoscalingv1alpha1.FederatedHPA) error {
	var errs field.ErrorList
	if len(h.Spec.Metrics) == 0 {
		errs = append(errs, field.Required(field.NewPath("spec", "metrics"),
			"a FederatedHPA needs at least one metric; omit spec.metrics to get the default, CPU utilization 80%"))
	}
	return fieldcheck.Invalid(autoscalingv1alpha1.GroupVersion.WithKind(autoscalingv1alpha1.FederatedHPAKind).GroupKind(), h.Name, errs)
}

type cronFHPA struct{}

func (cronFHPA) ValidateCreate(_ context.Context, c *autoscalingv1alpha1.CronFederatedHPA) (admission.Warnings, error) {
	return nil, validateCron(c)
}

func (cronFHPA) ValidateUpdate(_ context.Context, old, c *autoscalingv1alpha1.CronFederatedHPA) (admission.Warnings, error) {
	if equality.Semantic.DeepEqual(old.Spec, c.Spec) {
		return nil, nil
	}
	return nil, validateCron(c)
}

func (cronFHPA) ValidateDelete(context.Context, *autoscalingv1alpha1.CronFederatedHPA) (admission.Warnings, error) {
	return nil, nil
}

func validateCron(c *autoscalingv1alpha1.CronFederatedHPA) error {
	var errs field.ErrorList
	for i, r := range c.Spec.Rules {
		p := field.NewPath("spec", "rules").Index(i)
		if r.TimeZone != nil && *r.TimeZone != "" {
			if _, err := time.LoadLocation(*r.TimeZone); err != nil {
				errs = append(errs, field.Invalid(p.Child("timeZone"), *r.TimeZone, "not a time zone of the IANA database, for example Europe/Berlin or UTC"))
				continue
			}
		}
		if _, err := ParseRule(r.Schedule, r.TimeZone); err != nil {
			errs = append(errs, field.Invalid(p.Child("schedule"), r.Schedule, err.Error()))
		}
	}
	return fieldcheck.Invalid(autoscalingv1alpha1.GroupVersion.WithKind(autoscalingv1alpha1.CronFederatedHPAKind).GroupKind(), c.Name, errs)
}
