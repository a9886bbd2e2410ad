package main

import (
	"context"

	"argosy.dev/argosy/test/fleet"
)

// afterUp runs inside `serve` once every cluster of the fleet is ready and
// before `up` reports success; an error fails `up` and stops the fleet.
//
// HOOK POINT (lead): install Argosy into the fleet here:
//   - CRDs and RBAC: `o.kustomize build o.config/...`, applied with
//     f.HostConfig();
//   - register the members: f.MemberNames(), f.MemberKubeconfig(name) for
//     the Secrets, f.Member(name) for region/zone/provider;
//   - start the manager: f.StartProcess(fleet.ProcessSpec{Name:
//     "host-manager", Path: o.manager, Env: []string{"KUBECONFIG=" +
//     <host kubeconfig file>}, ...}); its log goes to Dir/logs/host-manager.log
//     and `down` stops it before the clusters.
func afterUp(ctx context.Context, f *fleet.Fleet, o options) error {
	_, _, _ = ctx, f, o
	return nil
}
