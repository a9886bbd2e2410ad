package v1alpha1

// Labels on a ResourceBinding that name the policy claiming its template.
// A binding without them is not claimed (its policy was deleted, or it only
// exists as a dependency of other workloads).
const (
	LabelPolicyKind      = "policy.argosy.dev/kind"
	LabelPolicyNamespace = "policy.argosy.dev/namespace"
	LabelPolicyName      = "policy.argosy.dev/name"
)

// The contract between the binding controller, the execution controller and
// the status controller.
//
// A Work is named like its ResourceBinding (which is named like its
// ResourceTemplate) and lives in argosy-es-<cluster>. Bindings and Works are
// in different namespaces, so owner references cannot link them; the
// AnnotationBinding annotation does, and the WorkBindingIndex field index of
// the manager's cache finds the Works of a binding.
const (
	// AnnotationBinding on a Work is "<namespace>/<name>" of the
	// ResourceBinding it was rendered from.
	AnnotationBinding = "work.argosy.dev/binding"
	// AnnotationTemplateGeneration on a ResourceBinding is the
	// metadata.generation of the template that the detector computed the
	// binding's spec from (spec.resource.resourceVersion changes with every
	// status write to the template; the generation does not).
	AnnotationTemplateGeneration = "work.argosy.dev/template-generation"
	// AnnotationBindingGeneration on a Work is the metadata.generation of
	// the binding that the Work's manifests were rendered from.
	AnnotationBindingGeneration = "work.argosy.dev/binding-generation"
	// AnnotationConflictResolution on a Work is the binding's
	// conflictResolution (Abort or Overwrite); Abort when absent.
	AnnotationConflictResolution = "work.argosy.dev/conflict-resolution"
	// AnnotationRenderError on a Work says that the binding controller could
	// not render the manifests for the Work's cluster (for example an
	// override that cannot apply); the value names the policy, the rule and
	// the path. The manifests are then the last ones rendered successfully
	// (or none), and the execution controller reports Applied=False with
	// reason OverrideFailed and this message instead of applying.
	AnnotationRenderError = "work.argosy.dev/render-error"

	// WorkBindingIndex is the name of the manager cache's field index of
	// Works by AnnotationBinding.
	WorkBindingIndex = "work.argosy.dev/binding"

	// BindingFinalizer on a ResourceBinding makes the binding controller
	// delete the binding's Works before the binding goes away.
	BindingFinalizer = "work.argosy.dev/binding-controller"
	// WorkFinalizer on a Work makes the execution controller delete (or,
	// with preserveResourcesOnDeletion, release) the Work's objects in the
	// member before the Work goes away.
	WorkFinalizer = "work.argosy.dev/execution-controller"
)

// Labels and annotations Argosy puts on the objects it applies to members.
const (
	// LabelManaged ("true") marks an object in a member cluster as managed
	// by Argosy. The execution controller's member informers select on it,
	// and conflictResolution Abort refuses to touch objects without it.
	LabelManaged = "argosy.dev/managed"
	// AnnotationWork on a member object is "<namespace>/<name>" of the Work
	// that manages it.
	AnnotationWork = "argosy.dev/work"
	// LabelRetainReplicas ("true") on a wrapped object tells the execution
	// controller to leave spec.replicas of the member object to the member
	// (a member-side HPA, for example) once the object exists there.
	LabelRetainReplicas = "argosy.dev/retain-replicas"
)

// Reason of the Work's Applied condition when the binding controller could
// not render the Work (see AnnotationRenderError).
const WorkReasonOverrideFailed = "OverrideFailed"

// Field managers (server-side apply) of the controllers of issue 4.
const (
	// FieldManagerBinding writes Works and the binding's
	// status.observedGeneration.
	FieldManagerBinding = "argosy-binding"
	// FieldManagerExecution applies objects to members and writes Work
	// status.
	FieldManagerExecution = "argosy-execution"
	// FieldManagerStatus writes the binding's aggregatedStatus and
	// FullyApplied condition, and the template's status (but not
	// status.policy, which is the detector's).
	FieldManagerStatus = "argosy-status"
)

// Events on ResourceTemplates, ResourceBindings and Works, with Karmada's
// reasons.
const (
	EventReasonSyncWorkSucceed        = "SyncWorkSucceed"
	EventReasonSyncWorkFailed         = "SyncWorkFailed"
	EventReasonSyncSucceed            = "SyncSucceed"
	EventReasonSyncFailed             = "SyncFailed"
	EventReasonAggregateStatusSucceed = "AggregateStatusSucceed"
	EventReasonAggregateStatusFailed  = "AggregateStatusFailed"
)
