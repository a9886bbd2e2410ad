// Command argosy-fleet runs the local fleet of test/fleet (a host control
// plane and member clusters on 127.0.0.1, no containers) detached from the
// terminal, for `make local-up` and `make local-down`.
//
//	argosy-fleet up    --bin DIR --dir DIR --members N [--kustomize PATH --config DIR --manager PATH]
//	argosy-fleet down  --dir DIR
//	argosy-fleet serve ...   (what `up` runs in the background)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"argosy.dev/argosy/test/fleet"
)

const usage = `usage: argosy-fleet <command> [flags]

commands:
  up     start a fleet in the background and wait until it is ready
  down   stop the fleet started by up
  serve  run a fleet in the foreground until SIGTERM/SIGINT (up runs this)

Run argosy-fleet <command> -h for the flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = runUp(ctx, args)
	case "serve":
		err = runServe(ctx, args)
	case "down":
		err = runDown(ctx, args)
	case "-h", "--help", "help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "argosy-fleet: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "argosy-fleet:", err)
		os.Exit(1)
	}
}

// options are the flags of up and serve; up hands them to serve verbatim.
type options struct {
	bin, dir  string
	members   int
	timeout   time.Duration
	kustomize string // kustomize binary, for afterUp
	config    string // the repo's config/ dir, for afterUp
	manager   string // manager binary, for afterUp
	verbose   int
}

func (o *options) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("argosy-fleet "+name, flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "directory with kube-apiserver, etcd, kwok, ... (default: $ARGOSY_BIN or ./bin)")
	fs.StringVar(&o.dir, "dir", ".local", "working directory: kubeconfig, logs/, pki/, etcd/")
	fs.IntVar(&o.members, "members", 2, "number of member clusters")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for the fleet to come up")
	fs.StringVar(&o.kustomize, "kustomize", "", "kustomize binary (installing Argosy)")
	fs.StringVar(&o.config, "config", "", "the config/ directory of the repo (installing Argosy)")
	fs.StringVar(&o.manager, "manager", "", "manager binary to run against the host")
	fs.IntVar(&o.verbose, "v", 0, "log verbosity")
	return fs
}

// args renders o back into flags, with absolute paths, for serve.
func (o *options) args() []string {
	return []string{
		"--bin=" + o.bin, "--dir=" + o.dir, fmt.Sprintf("--members=%d", o.members),
		"--timeout=" + o.timeout.String(), "--kustomize=" + o.kustomize,
		"--config=" + o.config, "--manager=" + o.manager, fmt.Sprintf("--v=%d", o.verbose),
	}
}

func (o *options) parse(name string, args []string) error {
	fs := o.flags(name)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %v", name, fs.Args())
	}
	var err error
	if o.bin == "" {
		if o.bin, err = fleet.BinDir(); err != nil {
			return err
		}
	}
	for _, p := range []*string{&o.bin, &o.dir, &o.kustomize, &o.config, &o.manager} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Files in Dir owned by this command (the fleet owns the rest).
func servePIDFile(dir string) string { return filepath.Join(dir, "serve.pid") }
func readyFile(dir string) string    { return filepath.Join(dir, "ready") }
func fleetLog(dir string) string     { return filepath.Join(dir, "logs", "fleet.log") }

func newLogger(w io.Writer, verbosity int) logr.Logger {
	return funcr.New(func(prefix, args string) {
		fmt.Fprintln(w, time.Now().Format(time.RFC3339Nano), prefix, args)
	}, funcr.Options{Verbosity: verbosity})
}
