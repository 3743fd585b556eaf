package scan

import (
	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/status"
)

// TiedFile, in a service directory, ties svscan's life to the service, as
// a container's life is tied to its main command: once the service is down
// for good (svc -d, svc -x, or its finish exiting 125), svscan stops
// everything in order and exits with the service's last exit code.
const TiedFile = "tied"

// isTied tells whether the service directory name has a TiedFile.
func (s *Scanner) isTied(name string) bool {
	_, err := rawsys.Stat(s.dir, name+"/"+TiedFile)
	return err == nil
}

// watchTied watches a tied service's supervise/ for new status records,
// made first as supervise makes it, so that the first record is seen, and
// looks at the record. A watch the kernel has dropped (the directory was
// removed) is made again at the next scan.
func (s *Scanner) watchTied(sv *service) {
	if !sv.tied || sv.leaving || sv.statusWatch != "" || s.loop.watcher == nil {
		return
	}
	path := sv.name + "/supervise"
	unix.Mkdirat(s.dir, path, 0o700)
	if err := s.loop.watcher.Add(path); err != nil {
		s.warn("unable to watch ", path, ": ", err)
		return
	}
	sv.statusWatch = path
	s.checkTied(sv)
}

// unwatchTied stops watching a tied service's supervise/.
func (s *Scanner) unwatchTied(sv *service) {
	if sv.statusWatch != "" {
		s.loop.watcher.Remove(sv.statusWatch)
		sv.statusWatch = ""
	}
}

// statusEvent handles an event of a tied service's supervise/.
func (s *Scanner) statusEvent(ev fsnotify.Event) {
	for _, sv := range s.services {
		switch {
		case sv.statusWatch == "":
		case ev.Name == sv.statusWatch && ev.Has(fsnotify.Remove):
			sv.statusWatch = "" // the watcher has dropped it
		case ev.Name == sv.statusWatch+"/status":
			s.checkTied(sv)
		}
	}
}

// checkTied ends svscan when a tied service is down for good (tiedExit).
func (s *Scanner) checkTied(sv *service) {
	if !sv.tied || s.phase != scanning {
		return
	}
	st, err := status.ReadAllAt(s.dir, sv.name+"/"+status.File)
	if err != nil {
		return
	}
	if code, down := tiedExit(st, sv.main.sup == nil && sv.main.pid == 0); down {
		s.exit = code
		s.Stop()
	}
}

// tiedExit tells from a tied service's status record whether it is down
// for good, and svscan's exit code then: down and wanted down after having
// run, a one-shot task done (0), or, once its supervisor has ended (gone),
// down after having run (svc -x). Only our supervise's record says how
// ./run last exited.
func tiedExit(st status.Status, gone bool) (code int, down bool) {
	if st.Pid != 0 || st.Finishing || !st.Exited || st.Want != status.WantDown && !gone && !st.Done {
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
