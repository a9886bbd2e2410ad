package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/internal/manager"
)

// TestManagerRunsAndLeads runs the real manager against the apiserver: it
// must win leader election (a Lease held in its namespace), answer its
// probes, and stop cleanly when its context ends.
func TestManagerRunsAndLeads(t *testing.T) {
	o := manager.DefaultOptions()
	o.MetricsAddr = "0"
	o.ProbeAddr = freeAddr(t)
	o.LeaderElect = true
	o.LeaderElectionNamespace = "argosy-system"
	o.EnableWebhooks = false

	mgr, err := manager.New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("manager stopped with: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("manager did not stop within 30s of its context ending")
		}
	}()

	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
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
		url := fmt.Sprintf("http://%s%s", o.ProbeAddr, path)
		err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			resp, err := http.Get(url)
			if err != nil {
				return false, nil
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK, nil
		})
		if err != nil {
			t.Errorf("%s never answered 200: %v", url, err)
		}
	}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
