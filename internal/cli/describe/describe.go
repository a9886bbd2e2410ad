// Package describe is `describe KIND NAME`: what Argosy does with one
// propagated object, from the host only: its template and policy, the
// placement, the status per cluster, conditions, eviction tasks and events.
package describe

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
	"argosy.dev/argosy/internal/cli/cmdutil"
	"argosy.dev/argosy/internal/cli/get"
	"argosy.dev/argosy/internal/template"
)

// NewCommand is `describe KIND NAME`.
func NewCommand(f *cmdutil.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "describe KIND NAME",
		Short: "Show how a propagated object is placed and doing in every cluster",
		Long: `Show what Argosy does with one propagated object, read from the host: its
ResourceTemplate and the policy that claimed it, the placement (the
ResourceBinding's clusters and replicas), the status per cluster (applied,
adopted, health, ready replicas), the conditions of the template and the
binding, graceful eviction tasks, and the events of the template, the
binding and its Works.`,
		Example: `  %[1]s describe deployment nginx -n default`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd.Context(), f, args[0], args[1])
		},
	}
	return cmd
}

// Description is everything describe prints.
type Description struct {
	Template *workv1alpha1.ResourceTemplate
	// Binding is nil until the detector created it (no policy claims the
	// template yet).
	Binding *workv1alpha1.ResourceBinding
	// WorkTimes are the creation times of the Works by cluster.
	WorkTimes map[string]metav1.Time
	// Events of the template, the binding and the Works; Object says whose.
	Events []Event
}

// Event is one host event with what it is about.
type Event struct {
	Object string
	corev1.Event
}

func run(ctx context.Context, f *cmdutil.Factory, kindArg, name string) error {
	c, err := f.Client()
	if err != nil {
		return err
	}
	m, err := f.Mapper()
	if err != nil {
		return err
	}
	ns, _, err := f.Namespace()
	if err != nil {
		return err
	}
	rtName, what, err := templateName(ctx, c, m, f.TemplateNamespace, kindArg, ns, name)
	if err != nil {
		return err
	}
	d := &Description{Template: &workv1alpha1.ResourceTemplate{}, WorkTimes: map[string]metav1.Time{}}
	key := client.ObjectKey{Namespace: f.TemplateNamespace, Name: rtName}
	if err := c.Get(ctx, key, d.Template); err != nil {
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("%s not found: no ResourceTemplate %s wraps it", what, key)
		}
		return err
	}
	rb := &workv1alpha1.ResourceBinding{}
	switch err := c.Get(ctx, key, rb); {
	case err == nil:
		d.Binding = rb
	case !apierrors.IsNotFound(err):
		return err
	}
	evs, err := events(ctx, c, f.TemplateNamespace, rtName)
	if err != nil {
		return err
	}
	for _, e := range evs {
		obj := strings.ToLower(e.InvolvedObject.Kind)
		if obj == "" {
			obj = "template"
		}
		d.Events = append(d.Events, Event{Object: obj, Event: e})
	}
	if d.Binding != nil {
		for _, cl := range clusters(d.Binding) {
			ens := get.ExecutionNamespace(cl)
			w := &metav1.PartialObjectMetadata{}
			w.SetGroupVersionKind(workv1alpha1.GroupVersion.WithKind(workv1alpha1.KindWork))
			if err := c.Get(ctx, client.ObjectKey{Namespace: ens, Name: rtName}, w); err == nil {
				d.WorkTimes[cl] = w.CreationTimestamp
			}
			evs, err := events(ctx, c, ens, rtName)
			if err != nil {
				return err
			}
			for _, e := range evs {
				d.Events = append(d.Events, Event{Object: "work/" + cl, Event: e})
			}
		}
	}
	return Render(f.Streams.Out, d, time.Now())
}

// templateName finds the template of KIND NAME: derived from the kind the
// host serves, or, for kinds it does not serve (a CRD installed only in
// members), from the bindings whose resource matches.
func templateName(ctx context.Context, c client.Client, m meta.RESTMapper, templateNS, kindArg, ns, name string) (string, string, error) {
	mapping, err := cmdutil.Mapping(m, kindArg)
	if err == nil {
		gk := mapping.GroupVersionKind.GroupKind()
		if mapping.Scope.Name() != meta.RESTScopeNameNamespace {
			ns = ""
		}
		return template.Name(gk.Group, gk.Kind, ns, name), fmt.Sprintf("%s %q", strings.ToLower(gk.Kind), qualified(ns, name)), nil
	}
	if !meta.IsNoMatchError(err) {
		return "", "", err
	}
	var list workv1alpha1.ResourceBindingList
	if err := c.List(ctx, &list, client.InNamespace(templateNS)); err != nil {
		return "", "", fmt.Errorf("listing ResourceBindings in %s: %w", templateNS, err)
	}
	for _, b := range list.Items {
		r := b.Spec.Resource
		if get.KindMatches(kindArg, r) && r.Name == name && (r.Namespace == "" || r.Namespace == ns) {
			gk := schema.FromAPIVersionAndKind(r.APIVersion, r.Kind).GroupKind()
			return template.Name(gk.Group, gk.Kind, r.Namespace, r.Name), fmt.Sprintf("%s %q", strings.ToLower(r.Kind), qualified(r.Namespace, r.Name)), nil
		}
	}
	return "", "", fmt.Errorf("%s %q not found: the host serves no such kind and no ResourceBinding propagates it", kindArg, qualified(ns, name))
}

// events lists the events about objects named name in ns (the template
// and the binding share a name, and so do the Works).
func events(ctx context.Context, c client.Client, ns, name string) ([]corev1.Event, error) {
	var list corev1.EventList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingFields{"involvedObject.name": name}); err != nil {
		return nil, fmt.Errorf("listing events in %s: %w", ns, err)
	}
	return list.Items, nil
}

func clusters(b *workv1alpha1.ResourceBinding) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, c := range b.Spec.Clusters {
		add(c.Name)
	}
	for _, t := range b.Spec.GracefulEvictionTasks {
		add(t.FromCluster)
	}
	for _, s := range b.Status.AggregatedStatus {
		add(s.ClusterName)
	}
	return out
}

// Render writes d in kubectl describe's layout.
func Render(out io.Writer, d *Description, now time.Time) error {
	w := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	rt := d.Template
	obj := wrappedMeta(rt)
	fmt.Fprintf(w, "Name:\t%s\n", obj.name)
	fmt.Fprintf(w, "Namespace:\t%s\n", orNone(obj.namespace))
	fmt.Fprintf(w, "API Version:\t%s\n", obj.apiVersion)
	fmt.Fprintf(w, "Kind:\t%s\n", obj.kind)
	fmt.Fprintf(w, "Template:\t%s/%s\n", rt.Namespace, rt.Name)
	policy := "<none>"
	if p := rt.Status.Policy; p != nil {
		policy = p.Kind + " " + qualified(p.Namespace, p.Name)
	}
	if b := d.Binding; b != nil && b.Labels[workv1alpha1.LabelPolicyName] != "" {
		// The claim of record; status.policy mirrors it a moment later.
		policy = b.Labels[workv1alpha1.LabelPolicyKind] + " " + qualified(b.Labels[workv1alpha1.LabelPolicyNamespace], b.Labels[workv1alpha1.LabelPolicyName])
	}
	fmt.Fprintf(w, "Policy:\t%s\n", policy)
	if d.Binding != nil && d.Binding.Spec.Replicas > 0 {
		fmt.Fprintf(w, "Replicas:\t%d\n", d.Binding.Spec.Replicas)
	}
	fmt.Fprintf(w, "Created:\t%s ago\n", age(rt.CreationTimestamp, now))
	if d.Binding != nil {
		if t := d.Binding.Status.LastScheduledTime; t != nil {
			fmt.Fprintf(w, "Last Scheduled:\t%s ago\n", age(*t, now))
		}
	}
	// Each table aligns on its own: a flush ends a tabwriter block.
	flush := func() { _ = w.Flush() }
	flush()

	if d.Binding == nil {
		fmt.Fprintf(w, "Placement:\t<none> (no ResourceBinding yet: no policy claims the template)\n")
	} else {
		b := d.Binding
		if len(b.Spec.Clusters) == 0 {
			fmt.Fprintf(w, "Placement:\t<none>\n")
		} else {
			fmt.Fprintf(w, "Placement:\n  Cluster\tReplicas\n  -------\t--------\n")
			for _, c := range b.Spec.Clusters {
				fmt.Fprintf(w, "  %s\t%d\n", c.Name, c.Replicas)
			}
		}
		flush()
		rows := get.Rows([]get.Placement{{Binding: b, WorkTimes: d.WorkTimes}}, now)
		if len(rows) == 0 {
			fmt.Fprintf(w, "Cluster Status:\t<none>\n")
		} else {
			fmt.Fprintf(w, "Cluster Status:\n  Cluster\tApplied\tHealth\tReady\tEvicting\tAge\tMessage\n  -------\t-------\t------\t-----\t--------\t---\t-------\n")
			for _, r := range rows {
				ready := "-"
				if r.Desired > 0 {
					ready = fmt.Sprintf("%d/%d", r.Ready, r.Desired)
				}
				fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Cluster, trueFalse(r.Adopted), r.Health, ready, trueFalse(r.Evicting), r.Age, orNone(oneLine(r.Message)))
			}
		}
		flush()
		if len(b.Spec.GracefulEvictionTasks) == 0 {
			fmt.Fprintf(w, "Eviction Tasks:\t<none>\n")
		} else {
			fmt.Fprintf(w, "Eviction Tasks:\n  From Cluster\tReplicas\tReason\tProducer\tPurge Mode\tAge\tMessage\n  ------------\t--------\t------\t--------\t----------\t---\t-------\n")
			for _, t := range b.Spec.GracefulEvictionTasks {
				replicas := "-"
				if t.Replicas != nil {
					replicas = fmt.Sprint(*t.Replicas)
				}
				created := "<unknown>"
				if t.CreationTimestamp != nil {
					created = age(*t.CreationTimestamp, now)
				}
				fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.FromCluster, replicas, t.Reason, t.Producer, orNone(string(t.PurgeMode)), created, orNone(oneLine(t.Message)))
			}
		}
		flush()
	}

	var conds []struct {
		obj string
		c   metav1.Condition
	}
	for _, c := range rt.Status.Conditions {
		conds = append(conds, struct {
			obj string
			c   metav1.Condition
		}{"template", c})
	}
	if d.Binding != nil {
		for _, c := range d.Binding.Status.Conditions {
			conds = append(conds, struct {
				obj string
				c   metav1.Condition
			}{"binding", c})
		}
	}
	if len(conds) == 0 {
		fmt.Fprintf(w, "Conditions:\t<none>\n")
	} else {
		fmt.Fprintf(w, "Conditions:\n  Object\tType\tStatus\tReason\tAge\tMessage\n  ------\t----\t------\t------\t---\t-------\n")
		for _, c := range conds {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", c.obj, c.c.Type, c.c.Status, orNone(c.c.Reason), age(c.c.LastTransitionTime, now), orNone(oneLine(c.c.Message)))
		}
	}
	flush()

	if len(d.Events) == 0 {
		fmt.Fprintf(w, "Events:\t<none>\n")
	} else {
		evs := append([]Event(nil), d.Events...)
		sort.SliceStable(evs, func(i, j int) bool { return eventTime(&evs[i].Event).Before(eventTime(&evs[j].Event)) })
		fmt.Fprintf(w, "Events:\n  Type\tReason\tAge\tFrom\tObject\tMessage\n  ----\t------\t---\t----\t------\t-------\n")
		for _, e := range evs {
			a := age(metav1.NewTime(eventTime(&e.Event)), now)
			if n := count(&e.Event); n > 1 {
				a += fmt.Sprintf(" (x%d)", n)
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, a, orNone(source(&e.Event)), e.Object, oneLine(e.Message))
		}
	}
	return w.Flush()
}

type objectMeta struct{ apiVersion, kind, namespace, name string }

func wrappedMeta(rt *workv1alpha1.ResourceTemplate) objectMeta {
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(rt.Spec.Template.Raw); err != nil {
		return objectMeta{apiVersion: "<invalid>", kind: "<invalid>", name: rt.Name}
	}
	return objectMeta{apiVersion: u.GetAPIVersion(), kind: u.GetKind(), namespace: u.GetNamespace(), name: u.GetName()}
}

// eventTime is when an event last happened, for both event APIs.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

func count(e *corev1.Event) int32 {
	if e.Series != nil {
		return e.Series.Count
	}
	return e.Count
}

func source(e *corev1.Event) string {
	if e.ReportingController != "" {
		return e.ReportingController
	}
	return e.Source.Component
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func trueFalse(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func qualified(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}
