package overrides

import (
	"strings"
	"testing"

	policyv1alpha1 "argosy.dev/argosy/api/policy/v1alpha1"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseImage(t *testing.T) {
	tests := []struct {
		in   string
		want imageRef
	}{
		{"nginx", imageRef{repository: "nginx"}},
		{"myapp:1.0.0", imageRef{repository: "myapp", tag: "1.0.0"}},
		{"library/nginx:1.25", imageRef{repository: "library/nginx", tag: "1.25"}},
		{"test-repo/myapp:1.0.0", imageRef{repository: "test-repo/myapp", tag: "1.0.0"}},
		{"docker.io/library/nginx", imageRef{registry: "docker.io", repository: "library/nginx"}},
		{"localhost/app", imageRef{registry: "localhost", repository: "app"}},
		{"localhost:5000/app:v1", imageRef{registry: "localhost:5000", repository: "app", tag: "v1"}},
		{"registry.example:10443/a/b/c:v1.2", imageRef{registry: "registry.example:10443", repository: "a/b/c", tag: "v1.2"}},
		{"reg.io/app@" + digest, imageRef{registry: "reg.io", repository: "app", digest: digest}},
		{"app:v1@" + digest, imageRef{repository: "app", tag: "v1", digest: digest}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseImage(tt.in)
			if err != nil {
				t.Fatalf("parseImage: %v", err)
			}
			if got != tt.want {
				t.Errorf("parseImage = %+v, want %+v", got, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestParseImageErrors(t *testing.T) {
	for _, in := range []string{"", "App:1", "nginx:", "nginx@sha256:zz", "a//b", "reg.io/", ":v1", "nginx:v 1", "nginx@"} {
		if _, err := parseImage(in); err == nil {
			t.Errorf("parseImage(%q): want error", in)
		}
	}
}

func TestOverrideImage(t *testing.T) {
	tests := []struct {
		image     string
		component policyv1alpha1.ImageComponent
		op        policyv1alpha1.OverriderOperator
		value     string
		want      string
		wantErr   string
	}{
		{"myapp:1.0.0", policyv1alpha1.Registry, "add", "test-repo", "test-repo/myapp:1.0.0", ""},
		{"registry.k8s.io/pause:3.9", policyv1alpha1.Registry, "add", ".cn", "registry.k8s.io.cn/pause:3.9", ""},
		{"docker.io/library/nginx:1.25", policyv1alpha1.Registry, "replace", "fictional.registry.us", "fictional.registry.us/library/nginx:1.25", ""},
		{"nginx:1.25", policyv1alpha1.Registry, "replace", "reg.io", "reg.io/nginx:1.25", ""},
		{"docker.io/library/nginx:1.25", policyv1alpha1.Registry, "remove", "", "library/nginx:1.25", ""},
		{"nginx:1.25", policyv1alpha1.Registry, "remove", "", "nginx:1.25", ""},
		{"reg.io/nginx:1.25", policyv1alpha1.Repository, "add", "-debug", "reg.io/nginx-debug:1.25", ""},
		{"reg.io/nginx@" + digest, policyv1alpha1.Repository, "replace", "team/web", "reg.io/team/web@" + digest, ""},
		{"nginx:1.25", policyv1alpha1.Tag, "add", "-alpine", "nginx:1.25-alpine", ""},
		{"nginx", policyv1alpha1.Tag, "add", "1.25", "nginx:1.25", ""},
		{"nginx:1.25", policyv1alpha1.Tag, "replace", "1.26", "nginx:1.26", ""},
		{"nginx:1.25", policyv1alpha1.Tag, "replace", digest, "nginx@" + digest, ""},
		{"nginx:1.25", policyv1alpha1.Tag, "replace", "@" + digest, "nginx@" + digest, ""},
		{"nginx@" + digest, policyv1alpha1.Tag, "replace", "latest", "nginx:latest", ""},
		{"nginx:1.25@" + digest, policyv1alpha1.Tag, "remove", "", "nginx", ""},
		{"nginx", policyv1alpha1.Repository, "remove", "", "", "cannot remove the repository"},
		{"nginx", policyv1alpha1.Tag, "add", "", "", "value is required"},
		{"nginx", policyv1alpha1.Tag, "replace", "bad tag", "", "is not a valid image"},
		{"nginx", policyv1alpha1.Repository, "add", "UPPER", "", "is not a valid image"},
		{"nginx", "Digest", "add", "x", "", "unsupported component"},
		{"nginx", policyv1alpha1.Tag, "move", "x", "", "unsupported operator"},
		{"Bad::image", policyv1alpha1.Tag, "add", "x", "", "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.image+" "+string(tt.component)+" "+string(tt.op)+" "+tt.value, func(t *testing.T) {
			got, err := overrideImage(tt.image, &policyv1alpha1.ImageOverrider{Component: tt.component, Operator: tt.op, Value: tt.value})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
