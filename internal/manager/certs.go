package manager

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// addCertRotator makes the manager its own certificate authority: it keeps a
// CA and a serving certificate for the webhook Service in a Secret, rotates
// them before they expire, and writes the CA into the webhook
// configurations. Every replica runs it (no leader election needed), so all
// replicas serve with the same certificate from the same Secret.
func addCertRotator(mgr ctrl.Manager, o Options, ready chan struct{}) error {
	err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: o.SystemNamespace, Name: o.WebhookCertSecret},
		CertDir:        o.WebhookCertDir,
		CAName:         "argosy-webhook-ca",
		CAOrganization: "argosy.dev",
		DNSName:        fmt.Sprintf("%s.%s.svc", o.WebhookService, o.SystemNamespace),
		ExtraDNSNames:  []string{fmt.Sprintf("%s.%s.svc.cluster.local", o.WebhookService, o.SystemNamespace)},
		IsReady:        ready,
		Webhooks: []rotator.WebhookInfo{
			{Name: o.WebhookConfigPrefix + "validating-webhook-configuration", Type: rotator.Validating},
			{Name: o.WebhookConfigPrefix + "mutating-webhook-configuration", Type: rotator.Mutating},
		},
		RequireLeaderElection: false,
	})
	if err != nil {
		return fmt.Errorf("setting up webhook certificate rotation: %w", err)
	}
	return nil
}

// waitingServer starts the webhook server only once the rotator has put the
// certificate on disk; starting earlier would fail on missing files.
type waitingServer struct {
	webhook.Server
	ready <-chan struct{}
}

func (s *waitingServer) Start(ctx context.Context) error {
	select {
	case <-s.ready:
		return s.Server.Start(ctx)
	case <-ctx.Done():
		return nil
	}
}
