package pglaunch

import "syscall"

// sysProcAttr puts postgres in its own process group, runs it as cred (nil:
// as us), and has the kernel ask it for a fast shutdown if we die first, so
// that a crashed or killed Cairn leaves no server behind.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred, Pdeathsig: syscall.SIGINT}
}
