package interpreter

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Dependency identifies an object another object needs in the same cluster.
type Dependency struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// Group returns the API group of the dependency ("" for the core group).
func (d Dependency) Group() string {
	for i := len(d.APIVersion) - 1; i >= 0; i-- {
		if d.APIVersion[i] == '/' {
			return d.APIVersion[:i]
		}
	}
	return ""
}

// Dependencies returns the objects obj needs in every cluster it runs in,
// sorted and without duplicates, all in obj's namespace:
//
//   - for workloads with a pod template (apps Deployment, StatefulSet,
//     ReplicaSet, DaemonSet; batch Job; batch CronJob through its
//     jobTemplate; core Pod itself): the ConfigMaps and Secrets its volumes
//     (configMap, secret, projected sources and the secretRef of volume
//     plugins such as csi, cephfs, rbd), env valueFrom, envFrom and
//     imagePullSecrets name, in every container, init container and
//     ephemeral container; the ServiceAccount, unless it is "default" (every
//     namespace has one, as in Karmada); the PersistentVolumeClaims of its
//     persistentVolumeClaim volumes;
//   - for networking.k8s.io Ingress: the Secrets of spec.tls, as Karmada
//     does.
//
// Other kinds have no dependencies. A malformed object yields none.
func Dependencies(obj *unstructured.Unstructured) []Dependency {
	if obj == nil {
		return nil
	}
	gk := obj.GroupVersionKind().GroupKind()
	ns := obj.GetNamespace()
	var spec *corev1.PodSpec
	switch {
	case gk.Group == "apps" && (gk.Kind == "Deployment" || gk.Kind == "StatefulSet" || gk.Kind == "ReplicaSet" || gk.Kind == "DaemonSet"),
		gk.Group == "batch" && gk.Kind == "Job":
		if pt, ok := PodTemplate(obj, "spec", "template"); ok {
			spec = &pt.Spec
		}
	case gk.Group == "batch" && gk.Kind == "CronJob":
		if pt, ok := PodTemplate(obj, "spec", "jobTemplate", "spec", "template"); ok {
			spec = &pt.Spec
		}
	case gk.Group == "" && gk.Kind == "Pod":
		raw, found, _ := unstructured.NestedFieldNoCopy(obj.Object, "spec")
		var ps corev1.PodSpec
		if found && decode(raw, &ps) == nil {
			spec = &ps
		}
	case gk.Group == "networking.k8s.io" && gk.Kind == "Ingress":
		return ingressDependencies(obj)
	}
	if spec == nil {
		return nil
	}
	return podDependencies(ns, spec)
}

func podDependencies(ns string, spec *corev1.PodSpec) []Dependency {
	s := newDepSet(ns)
	for _, ref := range spec.ImagePullSecrets {
		s.add("Secret", ref.Name)
	}
	if sa := spec.ServiceAccountName; sa != "" && sa != "default" {
		s.add("ServiceAccount", sa)
	}
	visitContainers(spec, func(c *corev1.Container) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				s.add("ConfigMap", e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				s.add("Secret", e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				s.add("ConfigMap", r.Name)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				s.add("Secret", r.Name)
			}
		}
	})
	for i := range spec.Volumes {
		v := &spec.Volumes[i].VolumeSource
		switch {
		case v.ConfigMap != nil:
			s.add("ConfigMap", v.ConfigMap.Name)
		case v.Secret != nil:
			s.add("Secret", v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil:
			s.add("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					s.add("ConfigMap", src.ConfigMap.Name)
				}
				if src.Secret != nil {
					s.add("Secret", src.Secret.Name)
				}
			}
		case v.CSI != nil:
			if r := v.CSI.NodePublishSecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.AzureFile != nil:
			s.add("Secret", v.AzureFile.SecretName)
		case v.CephFS != nil:
			if r := v.CephFS.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.Cinder != nil:
			if r := v.Cinder.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.FlexVolume != nil:
			if r := v.FlexVolume.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.RBD != nil:
			if r := v.RBD.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.ScaleIO != nil:
			if r := v.ScaleIO.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.ISCSI != nil:
			if r := v.ISCSI.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		case v.StorageOS != nil:
			if r := v.StorageOS.SecretRef; r != nil {
				s.add("Secret", r.Name)
			}
		}
	}
	return s.sorted()
}

func visitContainers(spec *corev1.PodSpec, f func(*corev1.Container)) {
	for i := range spec.InitContainers {
		f(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		f(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		f((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

func ingressDependencies(obj *unstructured.Unstructured) []Dependency {
	tls, _, _ := unstructured.NestedSlice(obj.Object, "spec", "tls")
	s := newDepSet(obj.GetNamespace())
	for _, t := range tls {
		if m, ok := t.(map[string]any); ok {
			if name, ok := m["secretName"].(string); ok {
				s.add("Secret", name)
			}
		}
	}
	return s.sorted()
}

// depSet collects core/v1 dependencies of one namespace without duplicates.
type depSet struct {
	ns   string
	seen map[Dependency]struct{}
}

func newDepSet(ns string) *depSet {
	return &depSet{ns: ns, seen: map[Dependency]struct{}{}}
}

func (s *depSet) add(kind, name string) {
	if name == "" {
		return
	}
	s.seen[Dependency{APIVersion: "v1", Kind: kind, Namespace: s.ns, Name: name}] = struct{}{}
}

func (s *depSet) sorted() []Dependency {
	if len(s.seen) == 0 {
		return nil
	}
	out := make([]Dependency, 0, len(s.seen))
	for d := range s.seen {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Dependency) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}
