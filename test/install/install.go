// Package install puts Argosy onto a local fleet's host the way `make
// local-up` and the e2e tests need it: CRDs, namespaces and RBAC from
// config/, one Cluster per member with its credentials in a cluster-api
// kubeconfig Secret, and the manager as a local process (fake nodes run no
// containers, so the manager's Deployment cannot run there).
package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/internal/membership"
	"argosy.dev/argosy/internal/scheme"
	"argosy.dev/argosy/test/fleet"
)

// FieldOwner is the server-side apply manager of everything installed here.
const FieldOwner = "argosy-local-install"

// SystemNamespace holds member credentials.
const SystemNamespace = membership.SystemNamespace

// Options say where the pieces are.
type Options struct {
	// Kustomize is the kustomize binary; ConfigDir the repository's config/.
	Kustomize string
	ConfigDir string
	// Manager is the manager binary; empty to not run one.
	Manager string
	// ManagerArgs are added to the manager's command line.
	ManagerArgs []string
	// Pprof serves the manager's /debug/pprof on a free loopback port
	// (ManagerPprofAddr says which); also on when ProfileDirEnv is set.
	Pprof bool
}

// ProfileDirEnv names the directory benchmarks write profiles to; when it
// is set, Install serves the manager's /debug/pprof (see Options.Pprof).
const ProfileDirEnv = "ARGOSY_PROFILE_DIR"

// skippedKinds are the parts of config/default that cannot or must not run
// against a local fleet: the manager Deployment (nothing runs containers) and
// webhook configurations that would point at it.
var skippedKinds = map[string]bool{
	"Deployment":                     true,
	"ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration":   true,
}

// Install applies config/default (less skippedKinds), registers every member
// and, when o.Manager is set, starts the manager with its webhook server on
// loopback, waits until it is ready, and points the webhook configurations
// at it.
func Install(ctx context.Context, f *fleet.Fleet, o Options) error {
	c, err := client.New(f.HostConfig(), client.Options{Scheme: scheme.New()})
	if err != nil {
		return err
	}
	objs, err := Build(ctx, o.Kustomize, filepath.Join(o.ConfigDir, "default"))
	if err != nil {
		return err
	}
	if err := applyAll(ctx, c, objs); err != nil {
		return err
	}
	for _, name := range f.MemberNames() {
		if err := RegisterMember(ctx, c, f, name); err != nil {
			return err
		}
	}
	if o.Manager == "" {
		return nil
	}
	wh, err := newLocalWebhook(f.Dir())
	if err != nil {
		return err
	}
	args := wh.managerArgs()
	if o.Pprof || os.Getenv(ProfileDirEnv) != "" {
		addr, err := FreeLoopbackAddr()
		if err != nil {
			return err
		}
		args = append(args, "--pprof-bind-address="+addr)
	}
	if err := StartManager(ctx, f, o.Manager, append(args, o.ManagerArgs...)...); err != nil {
		return err
	}
	for _, obj := range objs {
		if k := obj.GetKind(); k == "ValidatingWebhookConfiguration" || k == "MutatingWebhookConfiguration" {
			if err := wh.redirect(obj); err != nil {
				return err
			}
			if err := apply(ctx, c, obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// Build runs `kustomize build dir` and decodes the objects.
func Build(ctx context.Context, kustomize, dir string) ([]*unstructured.Unstructured, error) {
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kustomize, "build", dir)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w: %s", dir, err, stderr.String())
	}
	return Decode(out.Bytes())
}

// Decode splits multi-document YAML into objects.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// applyAll applies CRDs and namespaces first and waits for the CRDs to be
// established, then the rest.
func applyAll(ctx context.Context, c client.Client, objs []*unstructured.Unstructured) error {
	var first, rest []*unstructured.Unstructured
	var crds []string
	for _, o := range objs {
		switch k := o.GetKind(); {
		case skippedKinds[k]:
		case k == "CustomResourceDefinition":
			crds = append(crds, o.GetName())
			first = append(first, o)
		case k == "Namespace":
			first = append(first, o)
		default:
			rest = append(rest, o)
		}
	}
	for _, o := range first {
		if err := apply(ctx, c, o); err != nil {
			return err
		}
	}
	for _, name := range crds {
		if err := waitEstablished(ctx, c, name); err != nil {
			return err
		}
	}
	for _, o := range rest {
		if err := apply(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, c client.Client, o *unstructured.Unstructured) error {
	if err := c.Patch(ctx, o, client.Apply, client.FieldOwner(FieldOwner), client.ForceOwnership); err != nil {
		return fmt.Errorf("applying %s %s: %w", o.GetKind(), client.ObjectKeyFromObject(o), err)
	}
	return nil
}

func waitEstablished(ctx context.Context, c client.Client, name string) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := c.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
			return false, nil
		}
		for _, cond := range crd.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("CRD %s not established: %w", name, err)
	}
	return nil
}

// RegisterMember creates the member's Cluster (push mode) and its
// credentials Secret (the fleet's admin kubeconfig for it) in cluster-api's
// kubeconfig format (<cluster>-kubeconfig, key "value"), owned by the
// Cluster so that deleting the Cluster deletes the credentials, as `kubectl
// argosy join` does with a ServiceAccount token.
func RegisterMember(ctx context.Context, c client.Client, f *fleet.Fleet, name string) error {
	spec, _ := f.Member(name)
	_, err := membership.Register(ctx, c, membership.Registration{
		Name:        name,
		Namespace:   SystemNamespace,
		Kubeconfig:  f.MemberKubeconfig(name),
		APIEndpoint: f.MemberEndpoint(name),
		Provider:    spec.Provider,
		Region:      spec.Region,
		Zone:        spec.Zone,
		FieldOwner:  FieldOwner,
	})
	return err
}

// StartManager runs the manager binary against the host as a fleet process
// (stopped with the fleet), with its probes on a loopback port, and waits
// until /readyz answers. extraArgs come last, so they win.
func StartManager(ctx context.Context, f *fleet.Fleet, bin string, extraArgs ...string) error {
	kc := filepath.Join(f.Dir(), "host.kubeconfig")
	if err := os.WriteFile(kc, f.HostKubeconfig(), 0o600); err != nil {
		return err
	}
	probe, err := FreeLoopbackAddr()
	if err != nil {
		return err
	}
	args := append([]string{
		"--kubeconfig=" + kc,
		"--leader-elect=false",
		"--metrics-bind-address=0",
		"--health-probe-bind-address=" + probe,
	}, extraArgs...)
	if err := f.StartProcess(fleet.ProcessSpec{Name: ManagerProcess, Path: bin, Args: args}); err != nil {
		return err
	}
	return waitManagerReady(ctx, f, probe)
}

// ManagerProcess is the fleet process name of the manager StartManager runs.
const ManagerProcess = "argosy-manager"

func waitManagerReady(ctx context.Context, f *fleet.Fleet, probe string) error {
	if err := WaitHTTP200(ctx, "http://"+probe+"/readyz"); err != nil {
		return fmt.Errorf("manager not ready (see %s): %w", filepath.Join(f.LogDir(), ManagerProcess+".log"), err)
	}
	return nil
}

// StopManager stops the manager StartManager started; ResumeManager starts
// it again with the same arguments.
func StopManager(f *fleet.Fleet) error { return f.StopProcess(ManagerProcess) }

// KillManager kills the manager with SIGKILL, a crash: no graceful
// shutdown, work queues and caches lost. ResumeManager starts it again.
func KillManager(f *fleet.Fleet) error { return f.KillProcess(ManagerProcess) }

// ResumeManager restarts the stopped manager and waits until it is ready.
func ResumeManager(ctx context.Context, f *fleet.Fleet) error {
	args, err := f.ProcessArgs(ManagerProcess)
	if err != nil {
		return err
	}
	var probe string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--health-probe-bind-address="); ok {
			probe = v
		}
	}
	if err := f.ResumeProcess(ManagerProcess); err != nil {
		return err
	}
	return waitManagerReady(ctx, f, probe)
}

// ManagerPprofAddr is the host:port of the /debug/pprof endpoints of the
// manager StartManager started, from its --pprof-bind-address (see
// Options.Pprof); it stays the same across ResumeManager.
func ManagerPprofAddr(f *fleet.Fleet) (string, error) {
	args, err := f.ProcessArgs(ManagerProcess)
	if err != nil {
		return "", err
	}
	var addr string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--pprof-bind-address="); ok {
			addr = v
		}
	}
	if addr == "" {
		return "", fmt.Errorf("the manager serves no pprof endpoint (no --pprof-bind-address)")
	}
	return addr, nil
}

// WaitHTTP200 polls url for up to a minute until it answers 200 OK.
func WaitHTTP200(ctx context.Context, url string) error {
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%s never answered 200: %w", url, err)
	}
	return nil
}

// FreeLoopbackAddr returns a 127.0.0.1 address whose port nobody listens on
// right now.
func FreeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
