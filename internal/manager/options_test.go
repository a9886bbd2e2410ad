package manager

import (
	"flag"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	cases := []struct {
		desc    string
		mutate  func(*Options)
		wantErr string // substring naming the flag; empty for valid
	}{
		{"defaults are valid", func(*Options) {}, ""},
		{"empty template namespace", func(o *Options) { o.TemplateNamespace = "" }, "--template-namespace"},
		{"empty system namespace", func(o *Options) { o.SystemNamespace = "" }, "--system-namespace"},
		{"webhook port out of range", func(o *Options) { o.WebhookPort = 70000 }, "--webhook-port"},
		{"zero API rate", func(o *Options) { o.KubeAPIQPS = 0 }, "--kube-api-qps"},
		{"no workers", func(o *Options) { o.ConcurrentReconciles = 0 }, "--concurrent-reconciles"},
		{"webhook port ignored without webhooks", func(o *Options) { o.EnableWebhooks = false; o.WebhookPort = 0 }, ""},
	}
	for _, c := range cases {
		t.Run(c.desc, func(t *testing.T) {
			o := DefaultOptions()
			c.mutate(&o)
			err := o.Validate()
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want one naming %s", err, c.wantErr)
			}
		})
	}
}

func TestBindFlags(t *testing.T) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--template-namespace=tpl", "--enable-webhooks=false", "--leader-elect"}); err != nil {
		t.Fatal(err)
	}
	if o.TemplateNamespace != "tpl" || o.EnableWebhooks || !o.LeaderElect {
		t.Fatalf("flags not bound: %+v", o)
	}
}
