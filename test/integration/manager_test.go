package integration

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/test/install"
)

// TestManagerLeadsAndAnswersProbes checks the package's manager (started in
// TestMain with the production wiring): it holds its leader election Lease
// in its namespace and answers its probes.
func TestManagerLeadsAndAnswersProbes(t *testing.T) {
	ctx := context.Background()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var lease coordinationv1.Lease
		if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: "argosy-system", Name: "argosy-manager.argosy.dev"}, &lease); err != nil {
			return false, nil
		}
		return lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity != "", nil
	})
	if err != nil {
		t.Fatalf("the manager never held its leader election lease: %v", err)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if err := install.WaitHTTP200(ctx, "http://"+mgrOptions.ProbeAddr+path); err != nil {
			t.Error(err)
		}
	}
}
