package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"argosy.dev/argosy/test/fleet"
)

// runDown stops the fleet of Dir: SIGTERM to serve (which stops its
// children in order), SIGKILL after --timeout, then any recorded child that
// still runs with its recorded command line. Idempotent.
func runDown(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("argosy-fleet down", flag.ContinueOnError)
	dir := fs.String("dir", ".local", "working directory of the fleet")
	timeout := fs.Duration("timeout", time.Minute, "how long serve gets to stop the fleet before SIGKILL")
	verbose := fs.Int("v", 0, "log verbosity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	log := newLogger(os.Stderr, *verbose).WithName("argosy-fleet")

	ran := false
	if r, err := fleet.ReadRecord(servePIDFile(d)); err == nil {
		if r.Alive() {
			ran = true
			fmt.Printf("Stopping the fleet in %s (pid %d) ...\n", d, r.PID)
			// serve's children die with it (Pdeathsig) even if the
			// SIGKILL after the timeout is needed.
			fleet.TerminatePID(ctx, r, *timeout)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	leftovers, err := fleet.Records(d)
	if err != nil {
		return err
	}
	for _, r := range leftovers {
		ran = ran || r.Alive()
	}
	if err := fleet.Reap(ctx, d, log); err != nil {
		return err
	}
	for _, f := range []string{servePIDFile(d), readyFile(d)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if ran {
		fmt.Printf("Fleet in %s stopped.\n", d)
	} else {
		fmt.Printf("No fleet runs in %s.\n", d)
	}
	return nil
}
