package scan

import (
	"bytes"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"daemontools/internal/status"
)

// TiedFile, in a service directory, ties svscan's life to the service, as
// a container's life is tied to its main command: once the service is down
// for good (svc -d, svc -x, or its finish exiting 125), svscan stops
// everything in order and exits with the service's last exit code.
const TiedFile = "tied"

// statusEvents are the events of a new status record in supervise/.
const statusEvents = unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_ONLYDIR

// watchTied watches a tied service's supervise/ for new status records,
// once supervise has made the directory, and looks at the record.
func (s *Scanner) watchTied(sv *service) {
	if !sv.tied || sv.leaving || s.changes < 0 {
		return
	}
	if sv.statusWatch == 0 {
		wd, err := unix.InotifyAddWatch(s.changes, filepath.Join(sv.name, "supervise"), statusEvents)
		if err != nil {
			return // not made yet: Run tries again shortly
		}
		sv.statusWatch = wd
	}
	s.checkTied(sv)
}

// Unwatched tells whether a tied service's status is not yet watched.
func (s *Scanner) Unwatched() bool {
	for _, sv := range s.services {
		if sv.tied && !sv.leaving && sv.statusWatch == 0 {
			return true
		}
	}
	return false
}

// WatchUnwatched tries again to watch what Unwatched reports.
func (s *Scanner) WatchUnwatched() {
	for _, sv := range s.services {
		s.watchTied(sv)
	}
}

// statusEvent handles an event of watch wd, a tied service's supervise/,
// about the entry name (NUL-padded). A watch the kernel has dropped (the
// directory is gone) is made again once there is a supervise/ to watch.
func (s *Scanner) statusEvent(wd int, mask uint32, name []byte) {
	for _, sv := range s.services {
		switch {
		case sv.statusWatch != wd:
		case mask&unix.IN_IGNORED != 0:
			sv.statusWatch = 0
		case string(bytes.TrimRight(name, "\x00")) == "status":
			s.checkTied(sv)
		}
	}
}

// checkTied ends svscan when a tied service is down for good (TiedExit).
func (s *Scanner) checkTied(sv *service) {
	if s.phase != scanning {
		return
	}
	st, err := status.ReadAll(filepath.Join(sv.name, "supervise/status"))
	if err != nil {
		return
	}
	if code, down := TiedExit(st, sv.main.pid == 0); down {
		s.exit = code
		s.Stop()
	}
}

// TiedExit tells from a tied service's status record whether it is down
// for good, and svscan's exit code then: down and wanted down after having
// run, or, once its supervisor has ended (gone), down after having run
// (svc -x). Only our supervise's record says how ./run last exited.
func TiedExit(st status.Status, gone bool) (code int, down bool) {
	if st.Pid != 0 || st.Finishing || !st.Exited || st.Want != status.WantDown && !gone {
		return 0, false
	}
	return exitCode(st.LastExit), true
}

// exitCode is the shell's number for how ./run ended: its exit code, or 128
// and the signal that killed it.
func exitCode(e status.Exit) int {
	switch {
	case e.Unknown:
		return 111
	case e.Code == 256:
		return 128 + e.Signal
	}
	return e.Code
}

// IsTied tells whether the service directory name has a TiedFile.
func IsTied(name string) bool {
	_, err := os.Stat(filepath.Join(name, TiedFile))
	return err == nil
}
