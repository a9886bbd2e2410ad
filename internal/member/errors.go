package member

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ErrorKind says why a member could not be used, in terms a user can act on.
type ErrorKind string

const (
	// KindCredentials: the credentials Secret is missing, is in the wrong
	// namespace, or holds neither a usable kubeconfig nor a token.
	KindCredentials ErrorKind = "Credentials"
	// KindUnreachable: no answer from the API server (refused, timed out,
	// DNS, proxy, connection reset).
	KindUnreachable ErrorKind = "Unreachable"
	// KindTLS: the TLS handshake failed, most often because the server's
	// certificate is not signed by the CA that the Secret names.
	KindTLS ErrorKind = "TLS"
	// KindUnauthorized: the API server answered but rejected the
	// credentials (401) or refused them the request (403).
	KindUnauthorized ErrorKind = "Unauthorized"
	// KindUnhealthy: the API server answered but reports itself not ready,
	// or failed the request on its side (5xx, 429).
	KindUnhealthy ErrorKind = "Unhealthy"
)

// Error is a classified failure to connect to or probe a member. Its message
// names the Secret or the endpoint concerned, so it can go into a condition
// and an Event as it is.
type Error struct {
	Kind ErrorKind
	// Endpoint is the API server URL dialled, when known.
	Endpoint string
	// Secret is the credentials Secret as namespace/name, when known.
	Secret string
	// Message is the whole human-readable message.
	Message string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a classified error, or "" for nil and for
// errors that were never classified.
func KindOf(err error) ErrorKind {
	var me *Error
	if errors.As(err, &me) {
		return me.Kind
	}
	return ""
}

func credentialsError(secret string, err error, format string, args ...any) *Error {
	return &Error{Kind: KindCredentials, Secret: secret, Err: err, Message: fmt.Sprintf(format, args...)}
}

// Classify turns an error from a request to the member at endpoint, made with
// the credentials of Secret secret (namespace/name), into an *Error. An error
// that is already classified is returned unchanged.
func Classify(err error, endpoint, secret string) *Error {
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	e := &Error{Endpoint: endpoint, Secret: secret, Err: err}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		recordHeader     tls.RecordHeaderError
		alert            tls.AlertError
	)
	switch {
	case errors.As(err, &unknownAuthority):
		e.Kind = KindTLS
		e.Message = fmt.Sprintf("the server's certificate is not signed by the CA in Secret %s (%s: %v)", secret, endpoint, unknownAuthority)
	case errors.As(err, &hostname):
		e.Kind = KindTLS
		e.Message = fmt.Sprintf("the server's certificate is not valid for %s: %v", endpoint, hostname)
	case errors.As(err, &invalid):
		e.Kind = KindTLS
		e.Message = fmt.Sprintf("the server's certificate at %s is invalid: %v", endpoint, invalid)
	case errors.As(err, &recordHeader), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		e.Kind = KindTLS
		e.Message = fmt.Sprintf("the server at %s does not speak TLS; check the scheme of spec.apiEndpoint", endpoint)
	case errors.As(err, &alert):
		e.Kind = KindTLS
		e.Message = fmt.Sprintf("the TLS handshake with %s failed: %v", endpoint, alert)
	case apierrors.IsUnauthorized(err):
		e.Kind = KindUnauthorized
		e.Message = fmt.Sprintf("the API server at %s rejected the credentials in Secret %s (401 Unauthorized)", endpoint, secret)
	case apierrors.IsForbidden(err):
		e.Kind = KindUnauthorized
		e.Message = fmt.Sprintf("the identity in Secret %s is not allowed to use the API server at %s: %s", secret, endpoint, statusMessage(err))
	case isStatus(err):
		e.Kind = KindUnhealthy
		e.Message = fmt.Sprintf("the API server at %s failed the request: %s", endpoint, statusMessage(err))
	default:
		e.Kind = KindUnreachable
		e.Message = fmt.Sprintf("cannot reach the API server at %s: %v", endpoint, rootCause(err))
	}
	return e
}

func isStatus(err error) bool {
	var s apierrors.APIStatus
	return errors.As(err, &s)
}

func statusMessage(err error) string {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		st := s.Status()
		if st.Message != "" {
			return st.Message
		}
		return fmt.Sprintf("%d %s", st.Code, st.Reason)
	}
	return err.Error()
}

// rootCause drops the url.Error wrapper ("Get \"https://...?timeout=5s\": ")
// whose URL changes with the request, so that a condition message stays the
// same from one probe to the next and the status is not rewritten for it.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
