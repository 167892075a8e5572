package main

import "syscall"

// exitWithParent asks the kernel to SIGKILL this process when its parent dies
// (prctl PR_SET_PDEATHSIG), so the helper ends even while a build keeps it busy.
func exitWithParent() {
	const prSetPdeathsig = 1
	_, _, _ = syscall.RawSyscall(syscall.SYS_PRCTL, prSetPdeathsig, uintptr(syscall.SIGKILL), 0)
}
