package interpreter

import (
	corev1 "k8s.io/api/core/v1"
)

// PodRequests returns the resources one Pod with this spec asks the
// scheduler for, computed as the kube-scheduler does (k8s.io/component-helpers
// resource.PodRequests):
//
//   - each container requests its resources.requests; a resource that has a
//     limit and no request requests its limit, because that is what the
//     apiserver defaults the request to (wrapped objects are never
//     defaulted, so it is done here);
//   - regular containers and restartable init containers (sidecars,
//     restartPolicy Always) run together and are summed;
//   - ordinary init containers run one at a time, each next to the sidecars
//     started before it, so the Pod needs the largest of those steps;
//   - the Pod needs the larger of the two, per resource;
//   - pod-level resources (spec.resources), when set, replace the container
//     totals for the resources they name;
//   - spec.overhead is added on top.
//
// An empty result means the Pod requests nothing.
func PodRequests(spec *corev1.PodSpec) corev1.ResourceList {
	reqs := corev1.ResourceList{}
	for i := range spec.Containers {
		add(reqs, containerRequests(&spec.Containers[i]))
	}

	sidecars := corev1.ResourceList{}
	initMax := corev1.ResourceList{}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		r := containerRequests(c)
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			// A sidecar keeps running next to the regular containers.
			add(reqs, r)
			add(sidecars, r)
			maxInto(initMax, sidecars)
			continue
		}
		step := corev1.ResourceList{}
		add(step, r)
		add(step, sidecars)
		maxInto(initMax, step)
	}
	maxInto(reqs, initMax)

	if pr := spec.Resources; pr != nil {
		podLevel := corev1.ResourceList{}
		for name, q := range pr.Limits {
			podLevel[name] = q.DeepCopy()
		}
		for name, q := range pr.Requests {
			podLevel[name] = q.DeepCopy()
		}
		for name, q := range podLevel {
			if name == corev1.ResourceCPU || name == corev1.ResourceMemory {
				reqs[name] = q
			}
		}
	}

	add(reqs, spec.Overhead)
	for name, q := range reqs {
		if q.IsZero() {
			delete(reqs, name)
		}
	}
	return reqs
}

// containerRequests returns a container's requests with limits standing in
// for missing requests.
func containerRequests(c *corev1.Container) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range c.Resources.Limits {
		out[name] = q.DeepCopy()
	}
	for name, q := range c.Resources.Requests {
		out[name] = q.DeepCopy()
	}
	return out
}

// add adds every quantity of b to a.
func add(a, b corev1.ResourceList) {
	for name, q := range b {
		if cur, ok := a[name]; ok {
			cur.Add(q)
			a[name] = cur
		} else {
			a[name] = q.DeepCopy()
		}
	}
}

// maxInto raises every quantity of a to at least the one in b.
func maxInto(a, b corev1.ResourceList) {
	for name, q := range b {
		if cur, ok := a[name]; !ok || q.Cmp(cur) > 0 {
			a[name] = q.DeepCopy()
		}
	}
}
