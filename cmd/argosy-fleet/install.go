package main

import (
	"context"
	"fmt"

	"argosy.dev/argosy/test/fleet"
	"argosy.dev/argosy/test/install"
)

// afterUp runs inside `serve` once every cluster of the fleet is ready and
// before `up` reports success; an error fails `up` and stops the fleet. With
// --config it installs Argosy (CRDs, namespaces, RBAC from config/default),
// registers every member as a Cluster, and with --manager runs the manager
// as a fleet process, stopped by `down` before the clusters.
func afterUp(ctx context.Context, f *fleet.Fleet, o options) error {
	if o.config == "" {
		return nil
	}
	if o.kustomize == "" {
		return fmt.Errorf("--config needs --kustomize")
	}
	return install.Install(ctx, f, install.Options{Kustomize: o.kustomize, ConfigDir: o.config, Manager: o.manager})
}
