// Package gitops holds no code. Its directory has the example manifests
// for installing Argosy and syncing workloads with Argo CD and Flux
// (docs/install.md); its tests check that they parse, point at paths that
// exist, and that the Argo CD health script and the Flux health
// expressions read ResourceTemplate conditions the way kstatus does.
package gitops
