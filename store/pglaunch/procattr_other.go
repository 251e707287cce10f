//go:build unix && !linux

package pglaunch

import "syscall"

// sysProcAttr puts postgres in its own process group and runs it as cred
// (nil: as us). Outside Linux there is no parent-death signal: a killed
// Cairn leaves postgres running, and the next Start reports it.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}
