// Command bundle writes Argosy's OLM bundle (registry+v1, in operator-sdk's
// layout) from the install manifests, since operator-sdk is not available
// on Argosy's build machines:
//
//	go run ./hack/bundle --version 0.1.0 --image ghcr.io/argosy-dev/argosy:0.1.0 \
//	    --kustomize bin/kustomize-v5.8.2 --out bundle
//
// It runs `kustomize build config/default`, turns the result into a
// ClusterServiceVersion, the CRDs and the remaining manifests OLM can carry
// (Generate), and writes them to <out>/manifests, the bundle annotations to
// <out>/metadata/annotations.yaml and bundle.Dockerfile next to <out>.
// <out>/manifests and <out>/metadata are replaced as a whole, so files of
// objects that no longer exist go away.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// options are the command-line flags.
type options struct {
	version   string
	image     string
	kustomize string
	config    string
	samples   string
	project   string
	out       string
}

func main() {
	var o options
	flag.StringVar(&o.version, "version", "", "Operator version (semantic, without a leading v).")
	flag.StringVar(&o.image, "image", "", "Manager image the bundle deploys (default: the image in the manifests).")
	flag.StringVar(&o.kustomize, "kustomize", "kustomize", "kustomize binary.")
	flag.StringVar(&o.config, "config", "config/default", "Kustomization of the install manifests.")
	flag.StringVar(&o.samples, "samples", "config/samples/seeds", "Directory of sample YAML files for alm-examples (read recursively, in lexical order).")
	flag.StringVar(&o.project, "project", "PROJECT", "Kubebuilder PROJECT file (its layout is recorded); empty to skip.")
	flag.StringVar(&o.out, "out", "bundle", "Bundle directory; bundle.Dockerfile is written next to it.")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bundle:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.version == "" {
		return errors.New("--version is required")
	}
	in, err := loadInput(o)
	if err != nil {
		return err
	}
	b, err := Generate(in)
	if err != nil {
		return err
	}
	for _, n := range b.Notes {
		fmt.Fprintln(os.Stderr, "bundle: note:", n)
	}
	return write(o.out, b)
}

// loadInput builds the manifests and reads the samples and the PROJECT file.
func loadInput(o options) (Input, error) {
	in := Input{
		Version:   o.version,
		Image:     o.image,
		BundleDir: filepath.ToSlash(filepath.Base(filepath.Clean(o.out))),
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(o.kustomize, "build", o.config)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return in, fmt.Errorf("%s build %s: %w\n%s", o.kustomize, o.config, err, stderr.String())
	}
	var err error
	if in.Objects, err = decodeObjects(stdout.Bytes()); err != nil {
		return in, fmt.Errorf("%s build %s: %w", o.kustomize, o.config, err)
	}
	if in.Samples, err = readSamples(o.samples); err != nil {
		return in, err
	}
	if o.project != "" {
		data, err := os.ReadFile(o.project)
		if err != nil {
			return in, err
		}
		var project struct {
			Layout []string `json:"layout"`
		}
		if err := yaml.Unmarshal(data, &project); err != nil {
			return in, fmt.Errorf("%s: %w", o.project, err)
		}
		in.ProjectLayout = strings.Join(project.Layout, ",")
	}
	return in, nil
}

// readSamples reads every .yaml file below dir, in lexical path order.
func readSamples(dir string) ([]*unstructured.Unstructured, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		o, err := decodeObjects(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		objs = append(objs, o...)
	}
	return objs, nil
}

// decodeObjects splits a multi-document YAML stream into objects, skipping
// empty documents.
func decodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, err
		}
		if s := string(bytes.TrimSpace(js)); s == "null" || s == "{}" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, err
		}
		objs = append(objs, u)
	}
}

// write replaces <out>/manifests and <out>/metadata with the bundle's files
// and writes bundle.Dockerfile next to <out>.
func write(out string, b *Bundle) error {
	out = filepath.Clean(out)
	for _, sub := range []string{"manifests", "metadata"} {
		if err := os.RemoveAll(filepath.Join(out, sub)); err != nil {
			return err
		}
	}
	for name, data := range b.Files {
		p := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(filepath.Dir(out), "bundle.Dockerfile"), b.Dockerfile, 0o644)
}
