package integration

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"argosy.dev/argosy/test/install"
	"argosy.dev/argosy/test/paths"
)

// TestSeedSamplesAccepted applies every YAML of the three seed tutorials,
// translated to the argosy.dev groups with templates wrapped
// (config/samples/seeds), in the tutorials' order, and expects the host
// apiserver to accept each: schema, defaults and CEL rules included. Objects
// that the tutorials create directly in a member (folders named member*) are
// native objects for that member, not for the host, and are skipped here.
func TestSeedSamplesAccepted(t *testing.T) {
	root, err := paths.Join("config", "samples", "seeds")
	if err != nil {
		t.Fatal(err)
	}
	files := seedFiles(t, root)
	if len(files) < 20 {
		t.Fatalf("found only %d seed files under %s", len(files), root)
	}
	ctx := context.Background()
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		t.Run(rel, func(t *testing.T) {
			objs := readObjects(t, f)
			if len(objs) == 0 {
				t.Fatalf("%s holds no object", rel)
			}
			for _, o := range objs {
				// Server-side apply, as `kubectl apply --server-side` does: a
				// later step of a tutorial updates what an earlier one made.
				if err := k8sClient.Patch(ctx, o, client.Apply, client.FieldOwner("seed-test"), client.ForceOwnership); err != nil {
					t.Errorf("%s %s/%s rejected: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
				}
			}
		})
	}
}

// seedFiles lists the host-side YAML files under root in lexical order, the
// order that replays each tutorial.
func seedFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), "member") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// readObjects decodes every document of a multi-document YAML file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := install.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}
