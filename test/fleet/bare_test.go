package fleet

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestBareMember adds a member that is only an apiserver to the shared
// fleet, uses it, and removes it: its process and pid record go, the
// full members are untouched.
func TestBareMember(t *testing.T) {
	f := sharedFleet(t)
	ctx := t.Context()
	const name = "bare-test"
	if err := f.AddBareMember(ctx, MemberSpec{Name: name, Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
	removed := false
	defer func() {
		if !removed {
			_ = f.RemoveBareMember(name)
		}
	}()
	if slices.Contains(f.MemberNames(), name) {
		t.Errorf("MemberNames %v lists the bare member", f.MemberNames())
	}
	if spec, ok := f.Member(name); !ok || spec.Region != "us-east-1" || f.MemberEndpoint(name) == "" || len(f.MemberKubeconfig(name)) == 0 {
		t.Fatalf("bare member unknown: %v %+v %q", ok, spec, f.MemberEndpoint(name))
	}
	c := clientFor(t, f, name)
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bare"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.AddNodes(ctx, name, NodeSpec{Name: "n1"}); err == nil {
		t.Error("AddNodes accepted a bare member")
	}
	if err := f.AddBareMember(ctx, MemberSpec{Name: "member1"}); err == nil {
		t.Error("AddBareMember accepted a full member's name")
	}
	proc := name + "-" + string(KubeAPIServer)
	pid, err := f.ProcessPID(proc)
	if err != nil {
		t.Fatal(err)
	}
	if rss, err := f.ProcessRSS(HostAPIServerProcess); err != nil || rss <= 0 {
		t.Errorf("host apiserver RSS %d, %v", rss, err)
	}

	if err := f.RemoveBareMember(name); err != nil {
		t.Fatal(err)
	}
	removed = true
	if _, err := f.ProcessPID(proc); err == nil {
		t.Errorf("%s still listed after RemoveBareMember", proc)
	}
	recs, err := Records(f.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.PID == pid {
			t.Errorf("pid record of %s (%d) left behind", proc, pid)
		}
	}
	if err := Readyz(ctx, c); err == nil {
		t.Error("the bare member still answers after RemoveBareMember")
	}
	if _, ok := f.Member(name); ok {
		t.Error("the bare member is still known after RemoveBareMember")
	}
	if err := Readyz(ctx, clientFor(t, f, "member1")); err != nil {
		t.Errorf("member1: %v", err)
	}
}
