package supervise

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// reapOrphans reaps the children of this process that the supervisor did
// not start: the orphans of its service, which come back to a process that
// is a child subreaper. Only for a supervisor alone in its process
// (Options.Orphans); its own child is left to its pidfd.
func (s *Supervisor) reapOrphans() {
	if s.opt.Orphans > 0 {
		ReapOrphans(func(pid int) bool { return pid == s.child.pid })
	}
}

// ReapOrphans reaps, without blocking, the children of this process that
// have exited and that own does not claim: the orphans that come back to a
// child subreaper, or to PID 1. It stops at the first exited child that own
// claims, which its supervisor reaps through its pidfd (its exit status is
// the service's), and returns that child's pid; 0 when none is left.
func ReapOrphans(own func(pid int) bool) int {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		pid := int((*sigchld)(unsafe.Pointer(&info)).pid)
		if err != nil || pid == 0 {
			return 0
		}
		if own(pid) {
			return pid
		}
		unix.Wait4(pid, nil, unix.WNOHANG, nil)
	}
}
