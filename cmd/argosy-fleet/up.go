package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"argosy.dev/argosy/test/fleet"
)

// readyInfo is what serve writes to Dir/ready for up to print.
type readyInfo struct {
	Kubeconfig string        `json:"kubeconfig"`
	Contexts   []string      `json:"contexts"`
	Timing     string        `json:"timing"`
	Total      time.Duration `json:"total"`
	RSS        int64         `json:"rss"`
	LogDir     string        `json:"logDir"`
}

// runUp starts `argosy-fleet serve` in a new session so the fleet outlives
// this command and the terminal, then waits until serve reports ready.
func runUp(ctx context.Context, args []string) error {
	var o options
	if err := o.parse("up", args); err != nil {
		return err
	}
	// Fail here, not in the background, on the most likely mistake.
	if err := fleet.CheckBinDir(o.bin); err != nil {
		return err
	}
	if err := fleet.CheckDir(o.dir); err != nil {
		return err
	}
	if r, err := fleet.ReadRecord(servePIDFile(o.dir)); err == nil && r.Alive() {
		return fmt.Errorf("a fleet already runs in %s (pid %d): run `argosy-fleet down --dir %s` first", o.dir, r.PID, o.dir)
	}
	if err := os.MkdirAll(filepath.Join(o.dir, "logs"), 0o755); err != nil {
		return err
	}
	_ = os.Remove(readyFile(o.dir))
	logf, err := os.Create(fleetLog(o.dir))
	if err != nil {
		return err
	}
	defer logf.Close()
	self, err := os.Executable()
	if err != nil {
		return err
	}

	begin := time.Now()
	cmd := exec.Command(self, append([]string{"serve"}, o.args()...)...)
	cmd.Stdout, cmd.Stderr = logf, logf // stdin is /dev/null
	// A new session: no controlling terminal, so closing it or Ctrl-C in
	// it later does not reach the fleet; `down` stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Printf("Starting a host and %d member cluster(s) in %s (log: %s) ...\n", o.members, o.dir, fleetLog(o.dir))

	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(o.timeout + 30*time.Second) // serve enforces o.timeout itself
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("the fleet failed to start (%v); %s ends:\n%s", err, fleetLog(o.dir), fleet.TailFile(fleetLog(o.dir), 40))
		case <-ctx.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM) // serve stops what it started
			<-exited
			return errors.New("interrupted; the fleet was stopped")
		case <-deadline:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-exited
			return fmt.Errorf("the fleet was not ready after %s; see %s", o.timeout, fleetLog(o.dir))
		case <-tick.C:
			b, err := os.ReadFile(readyFile(o.dir))
			if err != nil {
				continue
			}
			var info readyInfo
			if err := json.Unmarshal(b, &info); err != nil {
				return fmt.Errorf("%s: %w", readyFile(o.dir), err)
			}
			printReady(o, info, time.Since(begin))
			return nil
		}
	}
}

func printReady(o options, info readyInfo, wall time.Duration) {
	fmt.Printf("Fleet up in %s (fleet start %s; RSS %d MiB).\n  %s\n\n",
		wall.Round(100*time.Millisecond), info.Total.Round(100*time.Millisecond), info.RSS>>20, info.Timing)
	fmt.Printf("Contexts: %s\n\n", strings.Join(info.Contexts, ", "))
	fmt.Printf("  export KUBECONFIG=%s\n", info.Kubeconfig)
	fmt.Printf("  kubectl config get-contexts\n")
	if len(info.Contexts) > 1 {
		fmt.Printf("  kubectl --context %s get nodes -L topology.kubernetes.io/region,topology.kubernetes.io/zone\n", info.Contexts[1])
	}
	if o.config != "" {
		fmt.Printf("\nArgosy is installed on argosy-host; every member is registered as a Cluster:\n")
		fmt.Printf("  kubectl --context argosy-host get clusters\n")
		fmt.Printf("  kubectl --context argosy-host api-resources --categories=argosy\n")
		fmt.Printf("  kubectl --context argosy-host apply -f config/samples/seeds/000-workload-rebalancer/01-deployment-and-policy.yaml\n")
		if o.manager != "" {
			fmt.Printf("The manager runs as a local process; its log: %s/argosy-manager.log\n", info.LogDir)
		}
	}
	fmt.Printf("\nLogs: %s\nStop: argosy-fleet down --dir %s   (or make local-down)\n", info.LogDir, o.dir)
}

// runServe runs the fleet in the foreground until SIGTERM or SIGINT.
func runServe(ctx context.Context, args []string) error {
	var o options
	if err := o.parse("serve", args); err != nil {
		return err
	}
	log := newLogger(os.Stderr, o.verbose).WithName("argosy-fleet")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	// down finds us by this record and checks the command line first.
	rec := fleet.ProcessRecord{PID: os.Getpid(), Path: self, Args: os.Args[1:]}
	if err := fleet.WriteRecord(servePIDFile(o.dir), rec); err != nil {
		return err
	}
	defer os.Remove(servePIDFile(o.dir))
	defer os.Remove(readyFile(o.dir))

	startCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	f, err := fleet.Start(startCtx, fleet.Options{
		BinDir:  o.bin,
		Dir:     o.dir,
		Members: fleet.DefaultMembers(o.members),
		Logger:  log,
		Timeout: o.timeout,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := f.Stop(); err != nil {
			log.Error(err, "stop")
		}
	}()
	if err := afterUp(startCtx, f, o); err != nil {
		return fmt.Errorf("after up: %w", err)
	}

	info := readyInfo{
		Kubeconfig: f.KubeconfigPath(),
		Contexts:   append([]string{fleet.HostContext}, f.MemberNames()...),
		Timing:     f.Timing().String(),
		Total:      f.Timing().Total,
		RSS:        fleet.TotalRSS(f.Usage()),
		LogDir:     f.LogDir(),
	}
	b, _ := json.Marshal(info)
	if err := os.WriteFile(readyFile(o.dir), b, 0o644); err != nil {
		return err
	}
	log.Info("ready; waiting for SIGTERM", "pid", os.Getpid())
	<-ctx.Done()
	log.Info("signalled, stopping")
	return nil
}
