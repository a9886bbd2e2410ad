package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func TestDisplayName(t *testing.T) {
	for argv0, want := range map[string]string{
		"/usr/local/bin/kubectl-argosy": "kubectl argosy",
		"kubectl-argosy.exe":            "kubectl argosy",
		"kubectl-argosy_dev":            "kubectl argosy-dev",
		"/opt/bin/argosyctl":            "argosyctl",
		"":                              "argosyctl",
	} {
		if got := DisplayName(argv0); got != want {
			t.Errorf("DisplayName(%q) = %q, want %q", argv0, got, want)
		}
	}
}

func TestHelpAndErrors(t *testing.T) {
	run := func(argv0 string, args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), argv0, args, genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return code, out.String(), errOut.String()
	}
	code, out, _ := run("kubectl-argosy", "--help")
	if code != 0 || !strings.Contains(out, "kubectl argosy [command]") {
		t.Errorf("--help: exit %d, usage line missing:\n%s", code, out)
	}
	for _, c := range []string{"join", "unjoin", "taint", "cordon", "uncordon", "rebalance", "get", "describe", "promote", "wrap", "apply"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("--help does not list %s", c)
		}
	}
	if _, out, _ := run("argosyctl", "taint", "--help"); !strings.Contains(out, "argosyctl taint clusters member1") {
		t.Errorf("examples do not follow argv[0]:\n%s", out)
	}
	// Argument errors need no cluster, go to stderr and exit non-zero.
	code, out, errOut := run("argosyctl", "taint", "clusters", "member1", "a:Sometimes")
	if code == 0 || out != "" || !strings.Contains(errOut, `error: invalid taint "a:Sometimes"`) {
		t.Errorf("bad taint: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := run("argosyctl", "no-such-command"); code == 0 || !strings.Contains(errOut, "no-such-command") {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
}
