# Argosy: Karmada-style multi-cluster orchestration as a plain operator.
#
# Every tool is built from the Go module proxy into bin/ on first use and
# reused afterwards; nothing is downloaded from anywhere else.

# Image the manager is built into by docker-build and referenced by the bundle.
IMG ?= ghcr.io/argosy-dev/argosy:latest
VERSION ?= 0.1.0

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false

LOCALBIN ?= $(CURDIR)/bin
$(LOCALBIN):
	mkdir -p $(LOCALBIN)

## Pinned tool versions. The Kubernetes and etcd versions are pinned by the
## go.mod files under hack/tools/.
CONTROLLER_GEN_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
KWOK_VERSION ?= v0.8.0
BENCHSTAT_VERSION ?= v0.0.0-20260908200009-22c9c6c9d4da
# The Kubernetes version the tools module pins, stamped into the binaries so
# that members report it (a module build would say v0.0.0-master).
KUBE_VERSION ?= v1.37.2

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
KWOK ?= $(LOCALBIN)/kwok
BENCHSTAT ?= $(LOCALBIN)/benchstat-$(BENCHSTAT_VERSION)
KWOK_STAGES ?= $(LOCALBIN)/kwok-stages
KUBE_BINARIES := $(LOCALBIN)/kube-apiserver $(LOCALBIN)/kube-controller-manager $(LOCALBIN)/kube-scheduler $(LOCALBIN)/kubectl
ETCD ?= $(LOCALBIN)/etcd

# The kubeconfig and state of `make local-up`.
LOCAL_DIR ?= $(CURDIR)/.local
LOCAL_MEMBERS ?= 2

# Only the packages that have benchmarks: the others' TestMain would start
# control planes for nothing.
BENCH_PKGS = $(shell grep -rl --include='*_test.go' '^func Benchmark' . | xargs -r -n1 dirname | sort -u)

# Runs of each end-to-end benchmark in `make bench`.
E2E_BENCH_COUNT ?= 3

# Test timeouts are generous: CI has 2 cores and 90 minutes for everything.
TEST_TIMEOUT ?= 40m

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs, RBAC and webhook configurations into config/.
	$(CONTROLLER_GEN) crd paths="./api/..." output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role webhook paths="./controllers/..." paths="./internal/..."

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate DeepCopy methods of the API types.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: tools
tools: $(CONTROLLER_GEN) $(KUSTOMIZE) $(KUBE_BINARIES) $(ETCD) $(KWOK) $(KWOK_STAGES) ## Build every pinned tool into bin/.

.PHONY: test
test: manifests generate fmt vet tools ## Run unit, envtest and local-fleet e2e tests.
	go test $$(go list ./... | grep -v '/test/') -timeout $(TEST_TIMEOUT) -count=1
	@# The suites under test/ each start control planes (a fleet of 3 clusters,
	@# envtest): one package at a time, so that their timing-sensitive checks
	@# do not share 2 cores with another fleet starting up.
	ARGOSY_BIN=$(LOCALBIN) KUBEBUILDER_ASSETS=$(LOCALBIN) go test -p 1 ./test/... -timeout $(TEST_TIMEOUT) -count=1

.PHONY: test-unit
test-unit: ## Run only the tests that need no control plane.
	go test ./api/... ./internal/... -count=1

.PHONY: bench
bench: tools $(BENCHSTAT) ## Run the Go benchmarks (5 runs each, 3 for the end-to-end ones) and print a table of medians (benchstat).
	ARGOSY_BIN=$(LOCALBIN) KUBEBUILDER_ASSETS=$(LOCALBIN) go test $(filter-out ./test/e2e,$(BENCH_PKGS)) -run '^$$' -bench . -benchmem -count=5 -timeout 90m | tee $(LOCALBIN)/bench.txt
	@# The end-to-end benchmarks (propagation latency, 5,000-template cold
	@# start) take minutes per run: one run each per count, 3 counts.
	ARGOSY_BIN=$(LOCALBIN) go test ./test/e2e -run '^$$' -bench . -benchtime=1x -count=$(E2E_BENCH_COUNT) -timeout 180m | tee -a $(LOCALBIN)/bench.txt
	$(BENCHSTAT) $(LOCALBIN)/bench.txt

# make profile: one cold-start run (5,000 templates times PROFILE_SCALE)
# with CPU profiles of the host kube-apiserver and the manager for the
# first PROFILE_SECONDS after the manager resumes, and the manager's heap
# once every binding is FullyApplied, into PROFILE_DIR with `go tool pprof
# -top` summaries next to them.
PROFILE_SCALE ?= 1
PROFILE_SECONDS ?= 30
PROFILE_DIR ?= $(LOCALBIN)/profiles

.PHONY: profile
profile: tools ## Profile the host apiserver and the manager during one cold start (bin/profiles/).
	rm -rf $(PROFILE_DIR) && mkdir -p $(PROFILE_DIR)
	ARGOSY_BIN=$(LOCALBIN) ARGOSY_BENCH_SCALE=$(PROFILE_SCALE) ARGOSY_PROFILE_DIR=$(PROFILE_DIR) ARGOSY_PROFILE_SECONDS=$(PROFILE_SECONDS) \
		go test ./test/e2e -run '^$$' -bench '^BenchmarkColdStart5000$$' -benchtime=1x -count=1 -timeout 60m | tee $(PROFILE_DIR)/bench.log
	for p in host-apiserver.cpu manager.cpu manager.heap; do \
		go tool pprof -top -nodecount=25 $(PROFILE_DIR)/$$p.pprof > $(PROFILE_DIR)/$$p.txt; \
	done
	for p in host-apiserver.cpu manager.cpu; do \
		go tool pprof -top -cum -nodecount=25 $(PROFILE_DIR)/$$p.pprof > $(PROFILE_DIR)/$$p.cum.txt; \
	done
	go tool pprof -top -nodecount=25 -sample_index=alloc_space $(PROFILE_DIR)/manager.heap.pprof > $(PROFILE_DIR)/manager.heap.alloc.txt
	@for f in $(PROFILE_DIR)/*.txt; do echo "== $$f"; head -n 35 $$f; done

##@ Build

.PHONY: build
build: generate fmt vet build-cli ## Build the manager, the kubectl plugin and the fleet binaries.
	go build -o $(LOCALBIN)/manager ./cmd/manager
	go build -o $(LOCALBIN)/argosy-fleet ./cmd/argosy-fleet

.PHONY: build-cli
build-cli: ## Build the kubectl plugin kubectl-argosy and the same binary as argosyctl.
	go build -o $(LOCALBIN)/kubectl-argosy ./cmd/kubectl-argosy
	cp $(LOCALBIN)/kubectl-argosy $(LOCALBIN)/argosyctl

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the current kubeconfig (no webhook server).
	go run ./cmd/manager --enable-webhooks=false --leader-elect=false --metrics-bind-address=127.0.0.1:8443 --health-probe-bind-address=127.0.0.1:8081

.PHONY: docker-build
docker-build: ## Build the manager image (needs a container engine).
	docker build -t $(IMG) .

.PHONY: bundle
bundle: manifests $(KUSTOMIZE) ## Write the OLM bundle into bundle/.
	go run ./hack/bundle --version $(VERSION) --image $(IMG) --kustomize $(KUSTOMIZE) --out bundle

##@ Local fleet

.PHONY: local-up
local-up: build tools ## Start a host and $(LOCAL_MEMBERS) members on loopback, install Argosy, run the manager.
	$(LOCALBIN)/argosy-fleet up --bin $(LOCALBIN) --dir $(LOCAL_DIR) --members $(LOCAL_MEMBERS) \
		--kustomize $(KUSTOMIZE) --config $(CURDIR)/config --manager $(LOCALBIN)/manager

.PHONY: local-down
local-down: ## Stop everything local-up started.
	@if [ -x $(LOCALBIN)/argosy-fleet ]; then $(LOCALBIN)/argosy-fleet down --dir $(LOCAL_DIR); \
	else go run ./cmd/argosy-fleet down --dir $(LOCAL_DIR); fi

##@ Deployment

.PHONY: install
install: manifests $(KUSTOMIZE) ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl apply --server-side -f -

.PHONY: uninstall
uninstall: manifests $(KUSTOMIZE) ## Remove the CRDs from the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | kubectl delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests $(KUSTOMIZE) ## Deploy Argosy into the cluster of the current kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | kubectl apply --server-side -f -

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove Argosy from the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/default | kubectl delete --ignore-not-found -f -

##@ Tools (built from the Go module proxy)

$(CONTROLLER_GEN): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(LOCALBIN)/controller-gen $@

$(KUSTOMIZE): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)
	mv $(LOCALBIN)/kustomize $@

$(BENCHSTAT): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install golang.org/x/perf/cmd/benchstat@$(BENCHSTAT_VERSION)
	mv $(LOCALBIN)/benchstat $@

$(KWOK): | $(LOCALBIN)
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)

# kwok needs Stage objects; they ship in its module source.
$(KWOK_STAGES): | $(LOCALBIN)
	src=$$(go mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'); \
	mkdir -p $@.tmp; \
	cp $$src/kustomize/stage/node/fast/node-initialize.yaml \
	   $$src/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
	   $$src/kustomize/stage/pod/fast/pod-ready.yaml \
	   $$src/kustomize/stage/pod/fast/pod-complete.yaml \
	   $$src/kustomize/stage/pod/fast/pod-delete.yaml $@.tmp/; \
	chmod 0644 $@.tmp/*; rm -rf $@; mv $@.tmp $@

# One build for the four commands: they share most packages. kubectl is
# built too so that tests never depend on a kubectl installed on the machine.
KUBE_LDFLAGS = -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(patsubst v%,%,$(KUBE_VERSION)))) \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION))) \
	-X k8s.io/component-base/version.gitTreeState=clean
$(KUBE_BINARIES) &: hack/tools/kube/go.mod hack/tools/kube/go.sum | $(LOCALBIN)
	cd hack/tools/kube && go build -ldflags "$(KUBE_LDFLAGS)" -o $(LOCALBIN)/ k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl

$(ETCD): hack/tools/etcd/go.mod hack/tools/etcd/go.sum hack/tools/etcd/main.go | $(LOCALBIN)
	cd hack/tools/etcd && go build -o $@ .

# Short names, so that `make bin/etcd` works as well as the absolute paths.
.PHONY: bin/etcd bin/kwok bin/kwok-stages bin/controller-gen-$(CONTROLLER_GEN_VERSION) bin/kustomize-$(KUSTOMIZE_VERSION) bin/kube-apiserver
bin/etcd: $(ETCD)
bin/kwok: $(KWOK)
bin/kwok-stages: $(KWOK_STAGES)
bin/controller-gen-$(CONTROLLER_GEN_VERSION): $(CONTROLLER_GEN)
bin/kustomize-$(KUSTOMIZE_VERSION): $(KUSTOMIZE)
bin/kube-apiserver: $(KUBE_BINARIES)
