package main

import (
	"os"
	"syscall"
)

// dieWithParent asks the kernel for SIGKILL when the process that started flux-render dies, so a
// render in progress never outlives a killed validate (an idle flux-render already exits on stdin's
// EOF). If the parent is already gone (reparented before the call), exit now.
func dieWithParent() {
	parent := os.Getppid()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return
	}
	if os.Getppid() != parent {
		os.Exit(0)
	}
}
