// Package membertest serves just enough of a kube-apiserver over TLS for
// tests of the member cache and the Cluster controller, with no control
// plane: health, version, discovery, and list and watch of nodes and pods.
package membertest

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// Version is what /version answers.
const Version = "v1.37.2"

// FakeAPI is a TLS test server acting as a member's API server. Watches stay
// open until the client goes away or the server shuts down. When Token is
// set, requests without it get 401.
type FakeAPI struct {
	*httptest.Server
	mu     sync.Mutex
	token  string
	readyz int
	body   string
	nodes  []corev1.Node
	pods   []corev1.Pod
	quit   chan struct{}
	once   sync.Once
}

// New starts a FakeAPI that shuts down with the test.
func New(t testing.TB, token string) *FakeAPI {
	t.Helper()
	f := &FakeAPI{token: token, readyz: http.StatusOK, body: "ok", quit: make(chan struct{})}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Shutdown)
	return f
}

// CA is the PEM certificate that the server presents (self-signed).
func (f *FakeAPI) CA() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.Certificate().Raw})
}

// Shutdown stops the server. It ends open watches first, even those of a
// client that never goes away, so that a leaking test fails instead of
// hanging in Close. It is idempotent.
func (f *FakeAPI) Shutdown() {
	f.once.Do(func() {
		close(f.quit)
		f.CloseClientConnections()
		f.Close()
	})
}

// SetReadyz sets the answer of /readyz and /healthz.
func (f *FakeAPI) SetReadyz(code int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readyz, f.body = code, body
}

// SetObjects sets the nodes and pods that lists return (watches send no
// events: set them before the member connects).
func (f *FakeAPI) SetObjects(nodes []corev1.Node, pods []corev1.Pod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nodes, f.pods = nodes, pods
}

func (f *FakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	token, readyz, body := f.token, f.readyz, f.body
	nodes, pods := f.nodes, f.pods
	f.mu.Unlock()
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		writeStatus(w, http.StatusUnauthorized, metav1.StatusReasonUnauthorized, "Unauthorized")
		return
	}
	q := r.URL.Query()
	switch p := r.URL.Path; {
	case p == "/readyz" || p == "/healthz":
		w.WriteHeader(readyz)
		_, _ = w.Write([]byte(body))
	case p == "/version":
		writeJSON(w, version.Info{GitVersion: Version, Major: "1", Minor: "37"})
	case p == "/api":
		writeJSON(w, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	case p == "/apis":
		gv := metav1.GroupVersionForDiscovery{GroupVersion: "apps/v1", Version: "v1"}
		writeJSON(w, metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
			Groups: []metav1.APIGroup{{Name: "apps", Versions: []metav1.GroupVersionForDiscovery{gv}, PreferredVersion: gv}}})
	case p == "/api/v1":
		writeJSON(w, resourceList("v1", "pods/Pod", "nodes/Node", "pods/status/Pod"))
	case p == "/apis/apps/v1":
		writeJSON(w, resourceList("apps/v1", "deployments/Deployment", "deployments/scale/Scale"))
	case q.Get("sendInitialEvents") == "true":
		// No streaming lists here: client-go falls back to list and watch.
		writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "streaming lists are not supported")
	case q.Get("watch") == "true":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-f.quit:
		}
	case p == "/api/v1/nodes":
		writeJSON(w, &corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: nodes})
	case p == "/api/v1/pods":
		if fs := q.Get("fieldSelector"); !strings.Contains(fs, "status.phase!=Succeeded") {
			http.Error(w, "pods must be listed without finished ones, got fieldSelector "+fs, http.StatusBadRequest)
			return
		}
		writeJSON(w, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: pods})
	default:
		http.NotFound(w, r)
	}
}

// resourceList builds an APIResourceList from "name/Kind" (or
// "name/sub/Kind") entries.
func resourceList(gv string, entries ...string) *metav1.APIResourceList {
	l := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
	for _, e := range entries {
		i := strings.LastIndex(e, "/")
		l.APIResources = append(l.APIResources, metav1.APIResource{Name: e[:i], Kind: e[i+1:], Namespaced: true, Verbs: metav1.Verbs{"get", "list", "watch"}})
	}
	return l
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: reason, Code: int32(code), Message: msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
