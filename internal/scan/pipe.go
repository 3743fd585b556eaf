package scan

import (
	"strconv"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/status"
)

// survivingPipe finds the pipe between the service name and its logger
// that an earlier svscan made, if a process it started on either end
// still runs (and will be adopted): the service's stdout or the logger's
// stdin, opened again through /proc. Giving the next ./run a new pipe
// would leave the adopted logger reading one no one writes to.
func (s *Scanner) survivingPipe(name string) ([2]int, bool) {
	for _, end := range []struct {
		dir string
		fd  int
	}{{name, 1}, {name + "/log", 0}} {
		rec, err := status.ReadAllAt(s.dir, end.dir+"/"+status.File)
		if err != nil || rec.Pid == 0 || rec.Start == (procstart.ID{}) {
			continue
		}
		file := "/proc/" + strconv.Itoa(rec.Pid) + "/fd/" + strconv.Itoa(end.fd)
		// The read end first: a FIFO's write end opens only with a reader.
		r, err := unix.Open(file, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			continue
		}
		w, err := unix.Open(file, unix.O_WRONLY|unix.O_CLOEXEC, 0)
		var st unix.Stat_t
		if err == nil {
			err = unix.Fstat(r, &st)
		}
		// The process is checked after the opening: a match means the
		// pipe is the one its start was given.
		if now, perr := procstart.Of(rec.Pid); err != nil || perr != nil || now != rec.Start || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			unix.Close(r)
			if w >= 0 {
				unix.Close(w)
			}
			continue
		}
		// The logger reads with blocking reads, as from any new pipe.
		flags, _ := unix.FcntlInt(uintptr(r), unix.F_GETFL, 0)
		unix.FcntlInt(uintptr(r), unix.F_SETFL, flags&^unix.O_NONBLOCK)
		return [2]int{r, w}, true
	}
	return [2]int{-1, -1}, false
}
