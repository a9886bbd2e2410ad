//go:build !linux

package fleet

import "syscall"

// sysProcAttr: without Pdeathsig, children of a crashed fleet outlive it;
// Reap (argosy-fleet down) ends them.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
