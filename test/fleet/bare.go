package fleet

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
)

// HostAPIServerProcess is the process name (Usage, ProcessRSS) of the
// host's kube-apiserver.
const HostAPIServerProcess = hostName + "-" + string(KubeAPIServer)

// AddBareMember starts one more member that is only a kube-apiserver, on
// 127.0.0.1 and the fleet's etcd under its own --etcd-prefix: no
// kube-controller-manager, kube-scheduler, kwok or nodes. That is enough
// for objects nothing needs to run (Deployments with 0 replicas), at a
// fraction of a full member's cost. The apiserver is an extra process:
// RemoveBareMember stops it, Stop (or `argosy-fleet down`) does if nobody
// did, and Pdeathsig does if the caller dies. Member, MemberConfig,
// MemberKubeconfig and MemberEndpoint know the member; MemberNames, the
// node methods and the apiserver restarts do not. The name must be new
// to the fleet's etcd (a name used before finds its predecessor's objects
// under the same prefix). It returns once /readyz answers; on error,
// nothing it started still runs.
func (f *Fleet) AddBareMember(ctx context.Context, spec MemberSpec) error {
	if errs := validation.IsDNS1123Label(spec.Name); len(errs) > 0 {
		return fmt.Errorf("fleet: member name %q: %v", spec.Name, errs)
	}
	spec.Labels = maps.Clone(spec.Labels)
	spec.Nodes = nil
	f.mu.Lock()
	_, taken := f.byName[spec.Name]
	f.mu.Unlock()
	if taken || spec.Name == hostName || spec.Name == HostContext {
		return fmt.Errorf("fleet: member name %q is reserved or used", spec.Name)
	}
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c := &cluster{name: spec.Name, context: spec.Name, member: &spec, port: ports[0], bare: true}
	if err := f.prepareCluster(c); err != nil {
		return err
	}
	p := f.newProcess(c.procName(KubeAPIServer), KubeAPIServer, c.apiserverArgs(f.etcdURL, nil)...)
	f.mu.Lock()
	switch _, taken := f.byName[spec.Name]; {
	case f.stopped:
		err = errStopped
	case taken:
		err = fmt.Errorf("fleet: member name %q is used", spec.Name)
	default:
		if err = p.start(f.sp, f.log); err == nil {
			c.apiserver = p
			f.extra = append(f.extra, p)
			f.byName[spec.Name] = c
		}
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := f.waitReadyz(ctx, c, p); err != nil {
		return errors.Join(err, f.RemoveBareMember(spec.Name))
	}
	f.log.Info("bare member ready", "member", spec.Name, "endpoint", c.endpoint(), "duration", round(time.Since(t0)))
	return nil
}

// RemoveBareMember stops the apiserver of a member AddBareMember started
// (SIGTERM to its process group, SIGKILL after a timeout) and forgets the
// member. Its data stays in etcd.
func (f *Fleet) RemoveBareMember(name string) error {
	f.mu.Lock()
	c, ok := f.byName[name]
	if !ok || !c.bare {
		f.mu.Unlock()
		return fmt.Errorf("fleet: no bare member %q", name)
	}
	delete(f.byName, name)
	p := c.apiserver
	f.extra = slices.DeleteFunc(f.extra, func(q *process) bool { return q == p })
	f.mu.Unlock()
	p.stop(f.log)
	f.log.Info("bare member stopped", "member", name)
	return nil
}

// ProcessRSS returns the resident set size (VmRSS) in bytes of the running
// fleet process called name: an extra process, or "<cluster>-<component>"
// such as HostAPIServerProcess.
func (f *Fleet) ProcessRSS(name string) (int64, error) {
	pid, err := f.ProcessPID(name)
	if err != nil {
		return 0, err
	}
	return procStatusBytes(pid, "VmRSS:"), nil
}

// ProcessPID returns the pid of the running fleet process called name (see
// ProcessRSS).
func (f *Fleet) ProcessPID(name string) (int, error) {
	for _, u := range f.Usage() {
		if u.Name == name {
			return u.PID, nil
		}
	}
	return 0, fmt.Errorf("fleet: no running process %q", name)
}
