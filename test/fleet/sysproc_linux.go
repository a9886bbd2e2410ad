package fleet

import "syscall"

// sysProcAttr puts each child in its own process group, so Stop can signal
// exactly what it started and a Ctrl-C in the terminal does not hit the
// children before the fleet can stop them in order; Pdeathsig kills a child
// whose parent dies without stopping it (test panic, timeout, SIGKILL).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
