package manager

// The manager's RBAC on the host cluster. controller-gen reads these markers
// into config/rbac/role.yaml. Wrapped objects live only inside
// ResourceTemplates, so Argosy needs no rights on the host's own workloads.

// +kubebuilder:rbac:groups=cluster.argosy.dev,resources=clusters,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cluster.argosy.dev,resources=clusters/status;clusters/finalizers,verbs=get;update;patch
// +kubebuilder:rbac:groups=policy.argosy.dev,resources=propagationpolicies;clusterpropagationpolicies;overridepolicies;clusteroverridepolicies,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=policy.argosy.dev,resources=propagationpolicies/status;clusterpropagationpolicies/status;overridepolicies/status;clusteroverridepolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcetemplates;resourcebindings;works,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcetemplates/status;resourcebindings/status;works/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=work.argosy.dev,resources=resourcetemplates/finalizers;resourcebindings/finalizers;works/finalizers,verbs=update
// +kubebuilder:rbac:groups=apps.argosy.dev,resources=workloadrebalancers,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=apps.argosy.dev,resources=workloadrebalancers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=autoscaling.argosy.dev,resources=federatedhpas;cronfederatedhpas,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=autoscaling.argosy.dev,resources=federatedhpas/status;cronfederatedhpas/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",namespace=argosy-system,resources=secrets,verbs=get;list;watch;create;update;patch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch;create
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations;mutatingwebhookconfigurations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
