package member

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeAPI is just enough of a kube-apiserver for the member cache: /readyz,
// /healthz, /version, and list and watch of nodes and pods. Watches stay
// open until the client goes away. It checks a bearer token when one is set.
type fakeAPI struct {
	*httptest.Server
	mu     sync.Mutex
	token  string
	readyz int
	body   string
	nodes  []corev1.Node
	pods   []corev1.Pod
	quit   chan struct{}
}

func newFakeAPI(t *testing.T, token string) *fakeAPI {
	t.Helper()
	f := &fakeAPI{token: token, readyz: http.StatusOK, body: "ok", quit: make(chan struct{})}
	f.Server = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		// Ends open watches even if a client never goes away, so that a
		// leaking test fails instead of hanging in Close.
		close(f.quit)
		f.Close()
	})
	return f
}

func (f *fakeAPI) setReadyz(code int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readyz, f.body = code, body
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	token, readyz, body := f.token, f.readyz, f.body
	nodes, pods := f.nodes, f.pods
	f.mu.Unlock()
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: metav1.StatusReasonUnauthorized, Code: 401, Message: "Unauthorized"})
		return
	}
	switch {
	case r.URL.Path == "/readyz" || r.URL.Path == "/healthz":
		w.WriteHeader(readyz)
		_, _ = w.Write([]byte(body))
	case r.URL.Path == "/version":
		_ = json.NewEncoder(w).Encode(map[string]string{"gitVersion": "v1.37.2", "major": "1", "minor": "37"})
	case r.URL.Query().Get("sendInitialEvents") == "true":
		// No streaming lists here: client-go falls back to list and watch.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure, Reason: metav1.StatusReasonBadRequest, Code: 400, Message: "streaming lists are not supported"})
	case r.URL.Query().Get("watch") == "true":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-f.quit:
		}
	case r.URL.Path == "/api/v1/nodes":
		writeJSON(w, &corev1.NodeList{TypeMeta: metav1.TypeMeta{Kind: "NodeList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: nodes})
	case r.URL.Path == "/api/v1/pods":
		if fs := r.URL.Query().Get("fieldSelector"); !strings.Contains(fs, "status.phase!=Succeeded") {
			http.Error(w, "pods must be listed without finished ones, got fieldSelector "+fs, http.StatusBadRequest)
			return
		}
		writeJSON(w, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Items: pods})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
