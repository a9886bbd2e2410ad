package membership

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	clusterv1alpha1 "argosy.dev/argosy/api/cluster/v1alpha1"
	"argosy.dev/argosy/internal/member"
)

// StoredConfig is a client config for a member from what the host stores
// for it, built exactly as the manager builds it (internal/member): a
// stored kubeconfig that runs a plugin or names a file is refused, since
// running it would give whoever wrote the Secret the user's machine.
func StoredConfig(ctx context.Context, host client.Reader, name string) (*rest.Config, error) {
	var cl clusterv1alpha1.Cluster
	if err := host.Get(ctx, client.ObjectKey{Name: name}, &cl); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("cluster %q not found", name)
		}
		return nil, fmt.Errorf("reading cluster %s: %w", name, err)
	}
	if ref := cl.Spec.SecretRef; ref == nil || ref.Name == "" {
		return nil, fmt.Errorf("cluster %s has no spec.secretRef: give the member's credentials with --cluster-kubeconfig", name)
	}
	cfg, err := member.RESTConfig(ctx, host, &cl)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: %w (or give --cluster-kubeconfig)", name, err)
	}
	return cfg, nil
}
