package execution

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	workv1alpha1 "argosy.dev/argosy/api/work/v1alpha1"
)

func TestClusterOf(t *testing.T) {
	cases := []struct {
		ns      string
		cluster string
		ok      bool
	}{
		{"argosy-es-member1", "member1", true},
		{"argosy-es-", "", false},
		{"default", "", false},
		{"argosy-templates", "", false},
	}
	for _, c := range cases {
		if got, ok := clusterOf(c.ns); got != c.cluster || ok != c.ok {
			t.Errorf("clusterOf(%q) = %q, %v; want %q, %v", c.ns, got, ok, c.cluster, c.ok)
		}
	}
}

func TestDecodeManifest(t *testing.T) {
	cases := []struct {
		raw     string
		wantErr string
	}{
		{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`, ""},
		{``, "empty"},
		{`[1,2]`, "cannot unmarshal"},
		{`{"kind":"ConfigMap","metadata":{"name":"c"}}`, "apiVersion and kind"},
		{`{"apiVersion":"v1","metadata":{"name":"c"}}`, "kind"},
	}
	for _, c := range cases {
		_, err := decodeManifest([]byte(c.raw))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("decodeManifest(%s): %v", c.raw, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(c.wantErr))):
			t.Errorf("decodeManifest(%s) = %v, want an error containing %q", c.raw, err, c.wantErr)
		}
	}
}

func TestIdentifierAndDescribe(t *testing.T) {
	id := identifier(2, schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, "deployments", "default", "nginx")
	want := workv1alpha1.ResourceIdentifier{Ordinal: 2, Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", Namespace: "default", Name: "nginx"}
	if id != want {
		t.Errorf("identifier = %+v, want %+v", id, want)
	}
	if got := describe("Deployment", "default", "nginx"); got != "Deployment default/nginx" {
		t.Errorf("describe = %q", got)
	}
	if got := describe("Namespace", "", "n1"); got != "Namespace n1" {
		t.Errorf("describe = %q", got)
	}
}

func ms(ordinal int32, group, version, kind, resource, ns, name string) workv1alpha1.ManifestStatus {
	return workv1alpha1.ManifestStatus{Identifier: workv1alpha1.ResourceIdentifier{
		Ordinal: ordinal, Group: group, Version: version, Kind: kind, Resource: resource, Namespace: ns, Name: name,
	}}
}

func TestLeftovers(t *testing.T) {
	deploy := ms(0, "apps", "v1", "Deployment", "deployments", "default", "nginx")
	cm := ms(1, "", "v1", "ConfigMap", "configmaps", "default", "conf")
	secret := ms(2, "", "v1", "Secret", "secrets", "default", "s")
	cases := []struct {
		name              string
		previous, current []workv1alpha1.ManifestStatus
		want              []string
	}{
		{"nothing before", nil, []workv1alpha1.ManifestStatus{deploy}, nil},
		{"unchanged", []workv1alpha1.ManifestStatus{deploy, cm}, []workv1alpha1.ManifestStatus{deploy, cm}, nil},
		{"one removed", []workv1alpha1.ManifestStatus{deploy, cm, secret}, []workv1alpha1.ManifestStatus{deploy, secret}, []string{"conf"}},
		{"reordered is not removed", []workv1alpha1.ManifestStatus{deploy, cm}, []workv1alpha1.ManifestStatus{ms(0, "", "v1", "ConfigMap", "configmaps", "default", "conf"), ms(1, "apps", "v1", "Deployment", "deployments", "default", "nginx")}, nil},
		{"new version of the same object is not removed", []workv1alpha1.ManifestStatus{ms(0, "apps", "v1beta1", "Deployment", "deployments", "default", "nginx")}, []workv1alpha1.ManifestStatus{deploy}, nil},
		{"renamed", []workv1alpha1.ManifestStatus{deploy}, []workv1alpha1.ManifestStatus{ms(0, "apps", "v1", "Deployment", "deployments", "default", "nginx2")}, []string{"nginx"}},
		{"other namespace", []workv1alpha1.ManifestStatus{deploy}, []workv1alpha1.ManifestStatus{ms(0, "apps", "v1", "Deployment", "deployments", "prod", "nginx")}, []string{"nginx"}},
		{"all removed", []workv1alpha1.ManifestStatus{deploy, cm}, nil, []string{"nginx", "conf"}},
		{"unidentified entries skipped", []workv1alpha1.ManifestStatus{{Identifier: workv1alpha1.ResourceIdentifier{Ordinal: 0}}}, nil, nil},
		{"duplicates once", []workv1alpha1.ManifestStatus{cm, cm}, nil, []string{"conf"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, id := range leftovers(c.previous, c.current) {
				got = append(got, id.Name)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("leftovers = %v, want %v", got, c.want)
			}
		})
	}
}

func raw(s string) *runtime.RawExtension { return &runtime.RawExtension{Raw: []byte(s)} }

func TestStatusEqual(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Hour))
	base := func() *workv1alpha1.WorkStatus {
		return &workv1alpha1.WorkStatus{
			ObservedGeneration: 2,
			Conditions: []metav1.Condition{{
				Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.WorkReasonAppliedSuccessful,
				Message: "ok", ObservedGeneration: 2, LastTransitionTime: t0,
			}},
			ManifestStatuses: []workv1alpha1.ManifestStatus{{
				Identifier: workv1alpha1.ResourceIdentifier{Ordinal: 0, Version: "v1", Kind: "ConfigMap", Resource: "configmaps", Namespace: "d", Name: "c"},
				Status:     raw(`{"a":1,"b":[1,2]}`),
				Health:     workv1alpha1.ResourceHealthy,
			}},
		}
	}
	cases := []struct {
		name   string
		mutate func(*workv1alpha1.WorkStatus)
		equal  bool
	}{
		{"same", func(*workv1alpha1.WorkStatus) {}, true},
		{"transition time only", func(s *workv1alpha1.WorkStatus) { s.Conditions[0].LastTransitionTime = t1 }, true},
		{"status JSON key order", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Status = raw(`{"b":[1,2],"a":1}`) }, true},
		{"status JSON spacing", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Status = raw(`{"a": 1, "b": [1, 2]}`) }, true},
		{"status value", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Status = raw(`{"a":2,"b":[1,2]}`) }, false},
		{"status gone", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Status = nil }, false},
		{"health", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Health = workv1alpha1.ResourceUnhealthy }, false},
		{"identifier", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Identifier.Name = "x" }, false},
		{"observed generation", func(s *workv1alpha1.WorkStatus) { s.ObservedGeneration = 3 }, false},
		{"condition observed generation", func(s *workv1alpha1.WorkStatus) { s.Conditions[0].ObservedGeneration = 3 }, false},
		{"condition message", func(s *workv1alpha1.WorkStatus) { s.Conditions[0].Message = "other" }, false},
		{"condition status", func(s *workv1alpha1.WorkStatus) { s.Conditions[0].Status = metav1.ConditionFalse }, false},
		{"manifest added", func(s *workv1alpha1.WorkStatus) {
			s.ManifestStatuses = append(s.ManifestStatuses, workv1alpha1.ManifestStatus{})
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := base()
			c.mutate(b)
			if got := statusEqual(base(), b); got != c.equal {
				t.Errorf("statusEqual = %v, want %v", got, c.equal)
			}
		})
	}
	if !rawEqual(nil, raw("null")) || rawEqual(nil, raw("{}")) {
		t.Error("rawEqual: null is no status, {} is one")
	}
}

func TestNextStatus(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	old := []workv1alpha1.ManifestStatus{ms(0, "", "v1", "ConfigMap", "configmaps", "d", "old")}
	work := &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Generation: 4},
		Status: workv1alpha1.WorkStatus{
			ObservedGeneration: 3,
			Conditions: []metav1.Condition{{
				Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.WorkReasonAppliedSuccessful,
				ObservedGeneration: 3, LastTransitionTime: t0,
			}},
			ManifestStatuses: old,
		},
	}
	fresh := []workv1alpha1.ManifestStatus{ms(0, "", "v1", "ConfigMap", "configmaps", "d", "new")}

	// Same status: the transition time stays, generations advance.
	next := nextStatus(work, metav1.Condition{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.WorkReasonAppliedSuccessful}, fresh, false)
	c := next.Conditions[0]
	if next.ObservedGeneration != 4 || c.ObservedGeneration != 4 || !c.LastTransitionTime.Equal(&t0) || next.ManifestStatuses[0].Identifier.Name != "new" {
		t.Errorf("next = %+v", next)
	}
	if work.Status.Conditions[0].ObservedGeneration != 3 {
		t.Error("nextStatus modified the Work")
	}

	// Unreachable: the condition turns, the manifest statuses stay.
	next = nextStatus(work, appliedFalse(workv1alpha1.WorkReasonClusterUnreachable, "down"), nil, true)
	c = next.Conditions[0]
	if c.Status != metav1.ConditionFalse || c.LastTransitionTime.Equal(&t0) || next.ManifestStatuses[0].Identifier.Name != "old" {
		t.Errorf("next = %+v", next)
	}
}

func TestAppliedCondition(t *testing.T) {
	work := &workv1alpha1.Work{Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: make([]workv1alpha1.Manifest, 2)}}}
	ok := appliedCondition(&pass{work: work, cluster: "member1"})
	if ok.Status != metav1.ConditionTrue || ok.Reason != workv1alpha1.WorkReasonAppliedSuccessful || !strings.Contains(ok.Message, "member1") {
		t.Errorf("success = %+v", ok)
	}
	p := &pass{work: work, cluster: "member1"}
	p.problems = []problem{
		{reason: workv1alpha1.WorkReasonConflict, message: "ConfigMap d/c conflicts"},
		{reason: workv1alpha1.WorkReasonAppliedFailed, message: "Deployment d/x is invalid"},
	}
	failed := appliedCondition(p)
	if failed.Status != metav1.ConditionFalse || failed.Reason != workv1alpha1.WorkReasonConflict ||
		failed.Message != "ConfigMap d/c conflicts; Deployment d/x is invalid" {
		t.Errorf("failure = %+v", failed)
	}
	p.problems = []problem{{reason: workv1alpha1.WorkReasonAppliedFailed, message: strings.Repeat("x", 2*maxMessage)}}
	if got := appliedCondition(p).Message; len(got) > maxMessage+3 {
		t.Errorf("message of %d bytes not limited", len(got))
	}
}

func TestConflictMessage(t *testing.T) {
	m := conflictMessage("ConfigMap default/c", "member1", "")
	for _, want := range []string{"ConfigMap default/c", "member1", "conflictResolution: Overwrite"} {
		if !strings.Contains(m, want) {
			t.Errorf("conflict message %q does not contain %q", m, want)
		}
	}
	m = conflictMessage("ConfigMap default/c", "member1", "argosy-es-member1/other")
	if !strings.Contains(m, "argosy-es-member1/other") {
		t.Errorf("conflict message %q does not name the other Work", m)
	}
}

func TestWritesOverlay(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	work := func(uid, rv string) *workv1alpha1.Work {
		return &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: "argosy-es-m1", Name: "w", UID: types.UID(uid), ResourceVersion: rv}}
	}
	written := &workv1alpha1.WorkStatus{ObservedGeneration: 7}
	cases := []struct {
		name          string
		cached        *workv1alpha1.Work
		at            time.Time
		wantOverlay   bool
		wantForgotten bool
	}{
		{"cache behind the write", work("u1", "10"), now, true, false},
		{"cache at the write (kept for spacing)", work("u1", "12"), now, false, false},
		{"another Work of the same name", work("u2", "10"), now, false, true},
		{"write too old", work("u1", "10"), now.Add(-2 * writtenTTL), false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w writes
			w.finalizer(work("u1", "10"), "11", c.at)
			w.status(work("u1", "11"), written, "12", c.at)
			c.cached.Status.ObservedGeneration = 1
			w.overlay(c.cached, now)
			overlaid := c.cached.Status.ObservedGeneration == 7 && controllerutil.ContainsFinalizer(c.cached, workv1alpha1.WorkFinalizer)
			if overlaid != c.wantOverlay {
				t.Errorf("overlaid = %v, want %v (%+v)", overlaid, c.wantOverlay, c.cached)
			}
			if forgotten := len(w.m) == 0; forgotten != c.wantForgotten {
				t.Errorf("forgotten = %v, want %v", forgotten, c.wantForgotten)
			}
		})
	}
	var w writes
	w.status(work("u1", "1"), written, "2", now)
	w.forget(types.NamespacedName{Namespace: "argosy-es-m1", Name: "w"})
	cached := work("u1", "1")
	w.overlay(cached, now)
	if cached.Status.ObservedGeneration != 0 {
		t.Error("a forgotten write was overlaid")
	}

	// Once the cache has caught up, an older copy is not overlaid either:
	// the status is the cache's from then on; the time of the write stays.
	w.status(work("u1", "1"), written, "2", now)
	w.overlay(work("u1", "2"), now)
	cached = work("u1", "1")
	w.overlay(cached, now)
	if cached.Status.ObservedGeneration != 0 {
		t.Error("a caught-up write was overlaid")
	}

	// Writes of member status changes wait for spacing from the first one
	// put off, then go; a write starts over.
	if d := w.putOff(work("u1", "2"), time.Second, now); d != time.Second {
		t.Errorf("first putOff = %s, want 1s", d)
	}
	if d := w.putOff(work("u1", "2"), time.Second, now.Add(300*time.Millisecond)); d != 700*time.Millisecond {
		t.Errorf("second putOff = %s, want 700ms", d)
	}
	if d := w.putOff(work("u1", "2"), time.Second, now.Add(time.Second)); d != 0 {
		t.Errorf("due putOff = %s, want 0", d)
	}
	w.status(work("u1", "2"), written, "3", now.Add(time.Second))
	if d := w.putOff(work("u1", "3"), time.Second, now.Add(2*time.Second)); d != time.Second {
		t.Errorf("putOff after a write = %s, want 1s", d)
	}
	if d := w.putOff(work("u9", "1"), time.Second, now); d != time.Second {
		t.Errorf("putOff of another Work of the same name = %s, want 1s", d)
	}

	// A released Work shows no finalizer until the cache catches up.
	w.finalizer(work("u1", "2"), "3", now)
	w.released(work("u1", "3"), "3", now)
	cached = work("u1", "3")
	cached.Finalizers = []string{workv1alpha1.WorkFinalizer}
	w.overlay(cached, now)
	if controllerutil.ContainsFinalizer(cached, workv1alpha1.WorkFinalizer) {
		t.Error("a released Work still shows the finalizer")
	}
}

func TestWritesExpire(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w writes
	old := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "old", UID: "u1"}}
	w.status(old, &workv1alpha1.WorkStatus{}, "2", now)
	w.status(&workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "new", UID: "u2"}}, &workv1alpha1.WorkStatus{}, "3", now.Add(2*writtenTTL))
	if _, ok := w.m[types.NamespacedName{Namespace: "ns", Name: "old"}]; ok || len(w.m) != 1 {
		t.Errorf("expired entries kept: %v", w.m)
	}
}

func TestOwnership(t *testing.T) {
	const key = "argosy-es-m1/mine"
	managed := map[string]string{workv1alpha1.LabelManaged: "true"}
	by := func(w string) map[string]string { return map[string]string{workv1alpha1.AnnotationWork: w} }
	exists := func(ns, name string) bool { return ns+"/"+name == "argosy-es-m1/other" }
	cases := []struct {
		name        string
		labels      map[string]string
		annotations map[string]string
		overwrite   bool
		owner       string
		blocked     bool
	}{
		{"not Argosy's, Abort", nil, nil, false, "", true},
		{"not Argosy's, Overwrite", nil, nil, true, "", false},
		{"labelled false, Abort", map[string]string{workv1alpha1.LabelManaged: "false"}, nil, false, "", true},
		{"this Work's", managed, by(key), false, "", false},
		{"this Work's without its label", nil, by(key), false, "", false},
		{"another live Work's, Abort", managed, by("argosy-es-m1/other"), false, "argosy-es-m1/other", true},
		{"another live Work's, Overwrite", managed, by("argosy-es-m1/other"), true, "argosy-es-m1/other", true},
		{"a gone Work's", managed, by("argosy-es-m1/gone"), false, "", false},
		{"Argosy's without a Work (a namespace it created)", managed, nil, false, "", false},
		{"annotated with another Work but not labelled, Abort", nil, by("argosy-es-m1/other"), false, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			owner, blocked := ownership(c.labels, c.annotations, key, c.overwrite, exists)
			if owner != c.owner || blocked != c.blocked {
				t.Errorf("ownership = %q, %v; want %q, %v", owner, blocked, c.owner, c.blocked)
			}
		})
	}
}

func TestOnlyMemberStatus(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	base := func() *workv1alpha1.WorkStatus {
		return &workv1alpha1.WorkStatus{
			ObservedGeneration: 2,
			Conditions:         []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: "R", LastTransitionTime: t0}},
			ManifestStatuses: []workv1alpha1.ManifestStatus{{
				Identifier: workv1alpha1.ResourceIdentifier{Version: "v1", Kind: "K", Resource: "ks", Name: "a"},
				Status:     raw(`{"replicas":1}`), Health: workv1alpha1.ResourceUnhealthy,
			}},
		}
	}
	cases := []struct {
		name   string
		mutate func(*workv1alpha1.WorkStatus)
		want   bool
	}{
		{"member status", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Status = raw(`{"replicas":2}`) }, true},
		{"health", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Health = workv1alpha1.ResourceHealthy }, true},
		{"condition", func(s *workv1alpha1.WorkStatus) { s.Conditions[0].Status = metav1.ConditionFalse }, false},
		{"generation", func(s *workv1alpha1.WorkStatus) { s.ObservedGeneration = 3 }, false},
		{"manifest renamed", func(s *workv1alpha1.WorkStatus) { s.ManifestStatuses[0].Identifier.Name = "b" }, false},
		{"manifest added", func(s *workv1alpha1.WorkStatus) {
			s.ManifestStatuses = append(s.ManifestStatuses, workv1alpha1.ManifestStatus{})
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := base()
			c.mutate(b)
			if got := onlyMemberStatus(base(), b); got != c.want {
				t.Errorf("onlyMemberStatus = %v, want %v", got, c.want)
			}
		})
	}
}
