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
	if s.opt.Orphans <= 0 {
		return
	}
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		pid := int((*sigchld)(unsafe.Pointer(&info)).pid)
		if err != nil || pid == 0 || pid == s.child.pid {
			return // none, or ours first: the next step reaps it, and then the rest
		}
		unix.Wait4(pid, nil, unix.WNOHANG, nil)
	}
}
