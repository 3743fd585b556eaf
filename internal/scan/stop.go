package scan

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/rawsys"
	"daemontools/internal/settings"
	"daemontools/internal/strerr"
)

const (
	// DefaultKillAfter is how long a service without a timeout-kill file
	// gets to stop, once told, before it is killed. A service and then
	// its logger both fit in a container runtime's ten-second stop window.
	DefaultKillAfter = 4 * time.Second
	// KillAfterFile, in the scanned directory, holds another default in
	// decimal milliseconds, as a service's timeout-kill does.
	KillAfterFile = ".svscan/timeout-kill"
	// drainGrace is how long a logger's pipe must stay empty, its
	// service gone, before the logger is told to stop: a logger reads a
	// chunk before it writes it.
	drainGrace = 100 * time.Millisecond
	// StopPoll is how often a stop under way is looked at, for the
	// deadlines and the loggers' pipes.
	StopPoll = 50 * time.Millisecond
)

// phase is what the scanner as a whole is doing.
type phase int

const (
	scanning phase = iota // keeping every service running
	stopping              // told to stop: every service is leaving
	stopped               // every service is gone: Run returns
)

// stopStep is how far the stop of one supervise has gone.
type stopStep int

const (
	running stopStep = iota // not told to stop
	told                    // got its stop command (dx, or ox for a logger)
	drained                 // a logger whose pipe is empty: got d
	killed                  // still there at its deadline: got k
)

// Stop begins svscan's orderly stop: every service is stopped once the
// services that need it (needs/) are down, at once for most, each logger
// once its service is down and it has read the pipe to the end. Run
// returns when all are gone. The supervise program's one service
// is told to stop, and the program ends with its supervisor, as on svc -dx.
func (s *Scanner) Stop() {
	if s.phase != scanning {
		return
	}
	if s.single {
		for _, sv := range s.services {
			if u := sv.main; u.sup != nil {
				s.step(u, func() { u.sup.Obey(time.Now(), []byte("dx")) }, time.Now())
			}
		}
		return
	}
	s.phase = stopping
	for _, sv := range s.services {
		sv.leaving = true
	}
	s.stopAfter = s.dependents()
	s.checkStopped()
}

func (s *Scanner) checkStopped() {
	if s.phase == stopping && len(s.services) == 0 {
		s.phase = stopped
	}
}

// retire moves a leaving service one step towards its end (pair.retire);
// with both of its supervisors gone, the entry is forgotten.
func (s *Scanner) retire(sv *service, now time.Time) {
	if sv.pair.main.step == running && s.dependentsUp(sv, now) {
		return
	}
	if sv.retire(s.memberOf(sv.main, now), s.memberOf(sv.log, now), now, s.dir, s.warn) {
		s.drop(sv)
		s.checkStopped()
	}
}

// A member is one of the two supervisors of a service being stopped, as
// the stop reaches it: a supervise process through its control FIFO, or a
// supervisor inside svscan.
type member interface {
	// Present tells whether the supervisor is still there.
	Present() bool
	// Tell gives it commands as svc would; false when they could not be
	// given now (the stop tries again).
	Tell(cmds string) bool
	// TimeoutKill names its service's timeout-kill file, wherever the
	// directory has gone since.
	TimeoutKill() string
}

// pair is what svscan keeps of a service and its logger for their stop:
// the pipe between them, which svscan holds for as long as the entry
// lives, and how far the stop of each supervisor has gone.
type pair struct {
	pipe      [2]int // read and write ends; -1 when closed, or without a logger
	main, log progress
}

// progress is how far the stop of one supervisor has gone.
type progress struct {
	step       stopStep
	deadline   time.Time // once told to stop: when to send k
	emptySince time.Time // a logger told to stop: since when its pipe is seen empty
}

// retire moves the service one step towards its end at now, and tells
// whether both supervisors are gone (the pipe is then closed): the main
// supervisor is told to stop the service and end (dx); once it has ended,
// svscan closes its write end of the pipe and tells the logger's
// supervisor to let its logger run until it has read everything (ox), so
// the last lines are logged. A logger normally ends at the end of its
// input; one that does not (a process the service left behind holds the
// pipe) is told to stop once the pipe stays empty. Each supervisor still
// there at its deadline (timeout-kill, or the default in the scanned
// directory, open as dir) is told k. warn reports a default that cannot
// be read.
func (p *pair) retire(main, log member, now time.Time, dir int, warn func(...any)) bool {
	if main.Present() {
		p.main.drive(main, "dx", now, dir, warn)
		return false
	}
	if p.pipe[1] >= 0 {
		unix.Close(p.pipe[1])
		p.pipe[1] = -1
	}
	if log.Present() {
		p.log.drive(log, "ox", now, dir, warn)
		p.drain(log, now)
		return false
	}
	p.close()
	return true
}

// close closes what is left of the pipe.
func (p *pair) close() {
	for i, fd := range p.pipe {
		if fd >= 0 {
			unix.Close(fd)
			p.pipe[i] = -1
		}
	}
}

// drive tells m cmd, and k once its deadline has passed.
func (st *progress) drive(m member, cmd string, now time.Time, dir int, warn func(...any)) {
	switch st.step {
	case running:
		// Read first: a supervisor may end as soon as it is told.
		after := killAfter(m.TimeoutKill(), dir, warn)
		if m.Tell(cmd) {
			st.step = told
			st.deadline = now.Add(after)
		}
	case told, drained:
		if !now.Before(st.deadline) && m.Tell("k") {
			st.step = killed
		}
	}
}

// drain tells a logger to stop once its pipe has stayed empty for
// drainGrace: everything its service wrote has been read (TIOCINQ is
// FIONREAD, the bytes in the pipe).
func (p *pair) drain(log member, now time.Time) {
	st := &p.log
	if st.step != told {
		return
	}
	if n, err := unix.IoctlGetInt(p.pipe[0], unix.TIOCINQ); err != nil || n > 0 {
		st.emptySince = time.Time{}
		return
	}
	if st.emptySince.IsZero() {
		st.emptySince = now
	}
	if now.Sub(st.emptySince) >= drainGrace && log.Tell("d") {
		st.step = drained
	}
}

// killAfter is how long a service gets to stop: its own timeout-kill
// file's, or else the default of the scanned directory, open as dir. A
// service's 0 means no KILL to supervise, as no file does: it gets the
// default too, so that the stop still ends.
func killAfter(file string, dir int, warn func(...any)) time.Duration {
	if d, err := readMillis(unix.AT_FDCWD, file); err == nil && d > 0 {
		return d
	}
	d, err := readMillis(dir, KillAfterFile)
	switch {
	case err == nil:
		return d
	case !errors.Is(err, unix.ENOENT):
		warn("unable to read ", KillAfterFile, ": ", err)
	}
	return DefaultKillAfter
}

// process is a supervise process as the stop reaches it.
type process struct {
	pid  int
	dir  fileID // its service's directory, or log/, where it works
	name string // NAME or NAME/log, for warnings
	warn func(...any)
}

func (p process) Present() bool { return p.pid != 0 }

// TimeoutKill is read in supervise's working directory: the service's,
// wherever it has moved.
func (p process) TimeoutKill() string {
	return "/proc/" + strconv.Itoa(p.pid) + "/cwd/timeout-kill"
}

// readMillis reads a file of milliseconds as supervise reads timeout-kill
// (settings); a relative name is looked up in the directory at.
func readMillis(at int, file string) (time.Duration, error) {
	line, err := settings.ReadLine(at, file)
	if err != nil {
		return 0, err
	}
	return settings.Millis(line)
}

// Tell writes cmds to the supervise's control FIFO.
func (p process) Tell(cmds string) bool {
	fd, err := p.openControl()
	if err == nil {
		_, err = unix.Write(fd, []byte(cmds))
		unix.Close(fd)
	}
	// Tried again at the next look, without a word: a supervise still
	// starting (not yet in its directory, no control FIFO yet: a TERM just
	// after a scan started it), or one exiting (ENXIO: no one reads the
	// FIFO any more). One that stays without a FIFO is said.
	notYet := (err == errNotThere || errors.Is(err, unix.ENOENT)) && p.starting()
	if err != nil && err != errExited && !notYet && !errors.Is(err, unix.ENXIO) {
		p.warn("unable to control ", p.name, ": ", err)
	}
	return err == nil
}

// startGrace is how long a supervise may take to go into its directory
// and make its control FIFO before svscan, unable to tell it anything,
// says so.
const startGrace = 5 * time.Second

// starting tells whether the supervise started less than startGrace ago.
func (p process) starting() bool {
	st, err := procstart.ReadStat(p.pid)
	return err == nil && st.Age() < startGrace
}

// errNotThere means a supervise has not yet gone into its directory.
var errNotThere error = strerr.Text("supervise not yet in its directory")

// errExited means a supervise has exited (its own timeout-kill ended its
// service just as svscan's deadline fell due, say) and awaits its reaping:
// it needs no command, and it is no trouble to warn of.
var errExited error = strerr.Text("supervise has exited")

// openControl opens a supervise's control FIFO for writing without
// blocking: inside supervise's working directory, which is the service
// directory wherever it has moved, or, once the directory has been
// deleted, through the descriptor supervise itself holds on the FIFO.
func (p process) openControl() (int, error) {
	const flags = unix.O_WRONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	proc := "/proc/" + strconv.Itoa(p.pid)
	st, err := rawsys.Stat(unix.AT_FDCWD, proc+"/cwd")
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, errExited
		}
		return -1, err
	}
	if (fileID{st.Dev, st.Ino}) != p.dir {
		return -1, errNotThere
	}
	fd, err := unix.Open(proc+"/cwd/supervise/control", flags, 0)
	if !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	fds := proc + "/fd/"
	var names []string
	if d, err := os.Open(fds); err == nil {
		names, _ = d.Readdirnames(-1)
		d.Close()
	}
	for _, name := range names {
		target, _ := os.Readlink(fds + name)
		if strings.HasSuffix(strings.TrimSuffix(target, " (deleted)"), "/supervise/control") {
			if fd, err := unix.Open(fds+name, flags, 0); err == nil {
				return fd, nil
			}
		}
	}
	return -1, err
}

// memberOf is a slot as the stop of its service reaches it: its supervise
// process through the control FIFO, or its supervisor here.
func (s *Scanner) memberOf(u *slot, now time.Time) member {
	if u != nil && u.script != nil {
		return madeLogger(u.pid)
	}
	if u != nil && u.pid != 0 {
		return process{u.pid, u.id, u.dir(), s.warn}
	}
	if u != nil && u.sup == nil && s.elsewhere(u) {
		return foreign{s, u}
	}
	return inProcess{s, u, now}
}

// foreign is a slot whose service an earlier svscan's supervise still
// supervises (elsewhere), as the stop reaches it: told through its
// control FIFO, as svc tells it, for as long as it reads its ok FIFO.
type foreign struct {
	s *Scanner
	u *slot
}

func (m foreign) Present() bool { return m.s.elsewhere(m.u) }

func (m foreign) Tell(cmds string) bool {
	fd, err := unix.Openat(m.s.dir, m.u.dir()+"/supervise/control", unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		_, err = unix.Write(fd, []byte(cmds))
		unix.Close(fd)
	}
	return err == nil
}

// TimeoutKill is in the service directory, relative to the scanned one,
// svscan's working directory.
func (m foreign) TimeoutKill() string { return m.u.dir() + "/timeout-kill" }

// inProcess is a slot whose supervisor is in svscan, as the stop reaches it.
type inProcess struct {
	s   *Scanner
	u   *slot // nil for the logger of a service without one
	now time.Time
}

func (m inProcess) Present() bool { return m.u != nil && m.u.sup != nil }

// Tell obeys cmds at once: the loop never waits on a full FIFO.
func (m inProcess) Tell(cmds string) bool {
	m.u.told += cmds
	m.s.step(m.u, func() { m.u.sup.Obey(m.now, []byte(cmds)) }, m.now)
	return true
}

func (m inProcess) TimeoutKill() string { return m.u.sup.Path() + "/timeout-kill" }

// madeLogger is the pid of the logger svscan made for a service
// (log-script) as the stop reaches it, or 0. It is told by signals: it
// ends by itself at the end of its input (ox); d is TERM, on which
// multilog ends after the line under way, and k is KILL.
type madeLogger int

func (m madeLogger) Present() bool { return m != 0 }

func (m madeLogger) Tell(cmds string) bool {
	sig := map[string]unix.Signal{"d": unix.SIGTERM, "k": unix.SIGKILL}[cmds]
	if sig != 0 {
		unix.Kill(int(m), sig) // a zombie takes it too
	}
	return true
}

// TimeoutKill names no file: the scanned directory's default applies.
func (m madeLogger) TimeoutKill() string { return "" }
