package supervise

// Daemons that fork (doc/extensions.md): with a pidfile file in the service
// directory, an exit 0 of ./run is the start of the service rather than
// its end. The supervisor waits, without blocking, for the file named there
// to name a live process descended from ./run, and then supervises that
// process as it would ./run, through a pidfd. Nothing else in the file is
// trusted: a stale pid, reused by an unrelated process, is never signalled.

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

const (
	pidfileFile = "pidfile"
	// pidfileWait is how long after ./run's exit 0 the pidfile has to name
	// the daemon.
	pidfileWait = 5 * time.Second
	// pidfileLook is how often the pidfile is read meanwhile.
	pidfileLook = 20 * time.Millisecond
	// maxPidfile is more bytes than any pid with blanks around it takes.
	maxPidfile = 64
	// maxPid is the kernel's largest pid_max.
	maxPid = 1 << 22
)

// awaiting is what the supervisor knows while ./run has exited 0 and the
// daemon is not yet found.
type awaiting struct {
	path        string    // the pidfile, relative to the service directory
	until       time.Time // when to give up
	why         error     // why the latest look found no daemon
	overwritten bool      // the pidfile file holds the pid itself (pidfilePath)
	// orphansElsewhere: the wait was taken over from a supervisor killed
	// meanwhile; the processes ./run left came back to the process that
	// reaped them (this one's parent, a subreaper such as svscan, or init).
	orphansElsewhere bool
	// exit is ./run's, recorded if no daemon comes: 0, or unknown for a
	// ./run adopted, or gone before the record said so.
	exit exit
}

// errNoDaemon is a look at the pidfile that found no daemon; its words
// name the file and say why.
func errNoDaemon(why string) error { return strerr.Text(why) }

// awaitDaemon follows an exit 0 of ./run in a service with a pidfile file:
// it looks for the daemon at once, and then again until pidfileWait has
// passed. It tells whether it took charge: false without a usable pidfile
// file. e is how ./run ended: 0, or unknown when it was adopted, and its
// orphans came back to the process that reaped them, not to this one.
func (s *Supervisor) awaitDaemon(now time.Time, e exit) bool {
	path, ok := s.fx.setting(pidfileFile)
	if !ok {
		return false
	}
	if path == "" {
		s.warn(s.opt.Dir, "/", pidfileFile, ": empty, ignored")
		return false
	}
	s.since = label(now)
	s.state = awaitingDaemon
	s.probe.Stop() // until the daemon is found
	s.await = awaiting{path: path, until: now.Add(pidfileWait), orphansElsewhere: e == exitUnknown, exit: e}
	lookForDaemon(s, now, input{})
	return true
}

// checkOverwritten looks whether the pidfile file now holds a bare number
// naming no file: a daemon told to write its pid into pidfile itself has
// overwritten the path there. It says so, once a wait, and reads the pid
// from the pidfile file from then on.
func (s *system) checkOverwritten() {
	if s.await.overwritten {
		return
	}
	v, ok := s.setting(pidfileFile)
	if !ok || v == "" || strings.Trim(v, "0123456789") != "" {
		return
	}
	var st unix.Stat_t
	if unix.Fstatat(s.dir, v, &st, 0) == nil {
		return // a file named by digits, as good a path as any
	}
	s.warn(s.opt.Dir, "/", pidfileFile, " holds ", v, ", a pid, not the path of the daemon's pid file: ",
		"the daemon wrote its pid into it; reading the pid from there (write a path such as daemon.pid into ",
		s.opt.Dir, "/", pidfileFile, " and give the daemon that path)")
	s.await.path, s.await.overwritten = pidfileFile, true
}

// lookForDaemon reads the pidfile (the alarm while awaitingDaemon); on a
// daemon, the service is up with it; else, at the deadline, the service
// has exited, with a warning.
func lookForDaemon(s *Supervisor, now time.Time, _ input) {
	c, err := s.fx.daemon()
	if err == nil {
		s.child, s.alarm = c, time.Time{}
		s.since = label(now)
		s.state = s.upState()
		s.startProbes(now)
		if s.want == status.WantDown { // told svc -d meanwhile (stopAwaiting)
			s.signalStop()
			s.enterStopping(now)
		}
		s.changed()
		return
	}
	s.await.why = err
	if now.Before(s.await.until) {
		s.alarm = now.Add(pidfileLook)
		if s.alarm.After(s.await.until) {
			s.alarm = s.await.until
		}
		s.changed()
		return
	}
	ended := "exited 0"
	if s.await.exit == exitUnknown {
		ended = "ended"
	}
	s.warn("no daemon ", pidfileWait.Seconds(), " seconds after ", s.opt.Dir, "/run ", ended, ": ", err)
	s.alarm = time.Time{}
	if !s.stopLeftBehind(now, s.await.exit) {
		s.runExited(now, s.await.exit)
	}
}

// stopLeftBehind follows the end of a run of a service with a pidfile
// file (./run, or its daemon, exited; or no daemon came): the processes
// that run left, orphans that came back to this process, would pile up
// with every restart. They get the down signal and CONT, and KILL after
// timeout-kill (a second without one); the service is down, with exit e,
// once they are gone. It tells whether there were any.
func (s *Supervisor) stopLeftBehind(now time.Time, e exit) bool {
	if !s.has(pidfileFile) {
		return false
	}
	if s.leftovers = s.fx.findLeftovers(s.leftovers); len(s.leftovers) == 0 {
		return false
	}
	pids := ""
	for _, c := range s.leftovers {
		pids += " " + strconv.Itoa(c.pid)
	}
	s.warn("stopping what ", s.opt.Dir, "/run left running before it starts again: pid", pids)
	sig := s.downSignal()
	s.signalLeftovers(sig)
	s.signalLeftovers(unix.SIGCONT)
	s.state, s.stopExit = draining, e
	t := s.timeoutKill()
	if t == 0 {
		t = restartGap
	}
	s.alarm = now.Add(t)
	s.changed()
	return true
}

// daemon reads the pid in the pidfile and takes charge of its process if it
// is ./run's.
func (s *system) daemon() (child, error) {
	s.checkOverwritten()
	name := s.opt.Dir + "/" + s.await.path
	pid, err := s.readPidfile(name)
	if err != nil {
		return noChild, err
	}
	c, err := s.trusted(pid, name+" names pid "+strconv.Itoa(pid)+", which ")
	if err != nil {
		return noChild, err
	}
	c.named = byPidfile
	return c, nil
}

// trusted takes charge of process pid if it is one of ./run's, alive; else
// it says why not, after named ("DIR/PATH names pid N, which ").
func (s *system) trusted(pid int, named string) (child, error) {
	st, err := procstart.ReadStat(pid)
	switch {
	case err == unix.ESRCH:
		return noChild, errNoDaemon(named + "does not exist")
	case err != nil:
		return noChild, errNoDaemon(named + "cannot be looked at: " + strerr.Reason(err))
	case st.Gone():
		return noChild, errNoDaemon(named + "is a zombie")
	case !s.descends(st, (*Supervisor)(s).takesOrphans()):
		return noChild, errNoDaemon(named + "is not a descendant of " + s.opt.Dir + "/run")
	}
	c, err := openChild(st)
	if err != nil {
		return noChild, errNoDaemon(named + "cannot be watched: " + strerr.Reason(err))
	}
	return c, nil
}

// readPidfile reads the pid in the file name (the service directory and
// s.await.path): a regular file inside the service directory, symlinks
// included, holding a decimal pid and blanks.
func (s *system) readPidfile(name string) (int, error) {
	fd, err := unix.Openat2(s.dir, s.await.path, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err == unix.EXDEV {
		return 0, errNoDaemon(name + " leads out of " + s.opt.Dir)
	}
	if err != nil {
		return 0, errNoDaemon("unable to open " + name + ": " + strerr.Reason(err))
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, errNoDaemon("unable to stat " + name + ": " + strerr.Reason(err))
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, errNoDaemon(name + " is not a regular file")
	}
	if st.Size > maxPidfile {
		return 0, errNoDaemon(name + " is too big for a pid: " + strconv.FormatInt(st.Size, 10) + " bytes")
	}
	var b [maxPidfile + 1]byte
	n, err := unix.Read(fd, b[:])
	if err != nil {
		return 0, errNoDaemon("unable to read " + name + ": " + strerr.Reason(err))
	}
	text := bytes.TrimSpace(b[:n])
	pid, err := strconv.Atoi(string(text))
	if err != nil || pid < 1 || pid > maxPid || text[0] == '+' {
		return 0, errNoDaemon(name + " holds no pid: " + strconv.Quote(string(text)))
	}
	return pid, nil
}

// descends tells whether p is one of the processes of ./run's latest
// start: p and each of its ancestors up to the service's process, or up
// to this process when toSelf (./run has exited: its descendants are
// orphans, and this process is their subreaper; or, when the wait for a
// daemon was taken over, to the process that reaped them), started no
// earlier than ./run. A pid reused since by a process that is not ./run's
// fails: either it started earlier, or its ancestry leads elsewhere.
func (s *system) descends(p procstart.Stat, toSelf bool) bool {
	self := unix.Getpid()
	reaper := self
	if s.await.orphansElsewhere && s.state == awaitingDaemon {
		reaper = unix.Getppid()
	}
	for range maxPid {
		switch {
		case p.Start < s.runStart:
			return false
		case s.child.pid != 0 && p.Pid == s.child.pid, toSelf && (p.PPid == self || p.PPid == reaper || reaper != self && p.PPid == 1):
			return true
		case p.PPid <= 1:
			return false
		}
		var err error
		if p, err = procstart.ReadStat(p.PPid); err != nil {
			return false
		}
	}
	return false
}

// spawned finds the ./run of the start under way that mark marks (a
// supervisor killed between the fork and the record naming the process):
// an orphan, whose parent is the process that reaped the killed
// supervisor's children (this one's parent, a subreaper such as svscan,
// or init), whose working directory is the service directory, and that
// started after the mark (procstart.StartedAfter), which no process of
// an earlier run of the service did. Of several (./run and orphans it
// left), ./run started first. It says when ./run started.
func (s *Supervisor) spawned(mark status.Mark) (child, tai64.Label, bool) {
	self, err := procstart.Of(unix.Getpid())
	var dir unix.Stat_t
	if err != nil || self.Boot != mark.Start.Boot || unix.Fstat(s.dir, &dir) != nil {
		return noChild, tai64.Label{}, false
	}
	all, _ := procstart.All()
	var found []procstart.Stat
	for _, p := range all {
		if p.PPid != unix.Getppid() && p.PPid != 1 || p.Pid == unix.Getpid() || p.Gone() ||
			!procstart.StartedAfter(p, mark.Start.Ticks, mark.LastPid) {
			continue
		}
		var cwd unix.Stat_t
		if unix.Stat("/proc/"+strconv.Itoa(p.Pid)+"/cwd", &cwd) == nil && cwd.Dev == dir.Dev && cwd.Ino == dir.Ino {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return noChild, tai64.Label{}, false
	}
	first := found[0]
	for _, p := range found[1:] {
		if p.Start < first.Start || p.Start == first.Start && procstart.PidAfter(first.Pid, p.Pid) {
			first = p
		}
	}
	c, err := openChild(first)
	return c, label(time.Now().Add(-first.Age())), err == nil
}

// openChild opens a pidfd on the process st and makes sure that it is
// still that process, so that a pid reused meanwhile is never watched.
func openChild(st procstart.Stat) (child, error) {
	fd, err := unix.PidfdOpen(st.Pid, 0)
	if err != nil {
		return noChild, err
	}
	c := child{pid: st.Pid, pidfd: fd, adopted: true}
	c.start, err = procstart.Of(st.Pid)
	if err == nil && (c.start.Ticks != st.Start || c.exited()) {
		err = unix.ESRCH
	}
	if err != nil {
		c.release()
		return noChild, err
	}
	return c, nil
}

// findLeftovers adds to known what is left of a service with a pidfile file
// or whose process MAINPID= named once that process is told to stop: the
// descendants of that process and, when this process supervises this
// service alone (orphans come back to it), every descendant of this
// process. Each is watched through a pidfd, and a stop lasts until each
// has exited.
func (s *system) findLeftovers(known []child) []child {
	roots := []int{s.child.pid}
	if s.opt.Alone {
		roots = append(roots, unix.Getpid())
	}
	var all []procstart.Stat
	for _, root := range roots {
		if root == 0 {
			continue
		}
		if all == nil {
			all, _ = procstart.All()
		}
		for _, p := range procstart.Descendants(all, root) {
			if p.Pid != s.child.pid && !p.Gone() && !isLeftover(known, p.Pid) {
				if c, err := openChild(p); err == nil {
					known = append(known, c)
				}
			}
		}
	}
	return known
}

func isLeftover(known []child, pid int) bool {
	for _, c := range known {
		if c.pid == pid {
			return true
		}
	}
	return false
}
