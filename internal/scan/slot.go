package scan

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/pathexec"
	"daemontools/internal/rawsys"
	"daemontools/internal/strerr"
	"daemontools/internal/supervise"
)

// slot is the place of one supervisor: a service's, or its logger's. It
// holds a supervise process (pid), or a supervisor inside this process
// (sup), or, between the two, nothing.
type slot struct {
	key   int32 // its events' key in the poller
	sv    *service
	log   bool // the logger's: its directory is NAME/log
	stdio [3]int
	pid   int    // the supervise process; 0 when none runs
	id    fileID // of the directory pid works in, once started
	sup   *supervise.Supervisor
	// script is the command line of the logger svscan makes for a
	// service without log/ (log-script): a multilog process in the
	// service's directory, in both modes; nil for a supervisor.
	script []string
	// crashed is when sup last panicked; told, the commands of its
	// service's stop so far, for a supervisor built again meanwhile.
	crashed time.Time
	told    string
}

// dir is the slot's service directory, relative to the scanned one.
func (u *slot) dir() string {
	if u.log {
		return u.sv.name + "/log"
	}
	return u.sv.name
}

func (s *Scanner) newSlot(sv *service, log bool, stdio [3]int) *slot {
	s.lastKey++
	u := &slot{key: s.lastKey, sv: sv, log: log, stdio: stdio}
	s.slots[u.key] = u
	return u
}

// pidfileFile is supervise's: a service with one runs a daemon that forks.
const pidfileFile = "pidfile"

// ownProcess tells whether, under svscan -1, the service in dir gets a
// supervise process of its own: one with a pidfile file, whose daemon is
// an orphan of ./run. In one process the orphans of every service come
// back to svscan, and none can tell whose is whose; a supervise of its
// own, a child subreaper to which only this service's orphans come back,
// can (doc/extensions.md, "descended from ./run"), and reaps and stops
// them as plain svscan's do. Every full scan asks it of every service
// running inside svscan: the path is made in a buffer kept for it and the
// call is a raw one (rawsys), so that an idle svscan -1 neither allocates nor wakes
// the Go runtime.
func (s *Scanner) ownProcess(dir string) bool {
	if !s.opt.InProcess {
		return true
	}
	s.path = append(append(append(s.path[:0], dir...), "/"+pidfileFile...), 0)
	_, err := rawsys.LstatName(s.dir, s.path[:len(s.path)-1])
	return err == nil
}

// open fills an empty slot: with a supervise process, or under svscan -1
// with a supervisor here, which starts its service (or adopts it). A
// failure is reported; the next full scan tries again.
func (s *Scanner) open(u *slot, now time.Time) {
	if u.script == nil && s.elsewhere(u) {
		return // an earlier svscan's supervise runs there (stop.go, foreign)
	}
	if !s.haveSpare() {
		s.short(u.dir(), unix.EMFILE)
		return
	}
	if u.script != nil || s.ownProcess(u.dir()) {
		s.spawn(u)
		return
	}
	s.openHere(u, now)
}

// openHere fills the slot with a supervisor inside svscan.
func (s *Scanner) openHere(u *slot, now time.Time) {
	var sup *supervise.Supervisor
	err := guard(func() error {
		var err error
		sup, err = supervise.Open(supervise.Options{Dir: u.dir(), Env: s.opt.Env, Stdio: u.stdio, Stderr: s.opt.Stderr})
		return err
	})
	if err != nil {
		strerr.Report(s.opt.Stderr, "supervise", err)
		s.short(u.dir(), err)
		return
	}
	s.begin(u, sup, now)
}

// begin gives the slot its new supervisor, which starts its service.
func (s *Scanner) begin(u *slot, sup *supervise.Supervisor, now time.Time) {
	u.sup = sup
	s.step(u, func() { sup.Begin(now) }, now)
}

// spawn fills the slot with a supervise process, as plain svscan does,
// or with the logger made for it.
func (s *Scanner) spawn(u *slot) {
	dir, what := u.dir(), "supervise "+u.dir()
	if u.script != nil {
		dir, what = u.sv.name, "multilog for "+u.sv.name
	}
	st, err := rawsys.Stat(s.dir, dir)
	if err == nil && u.script != nil {
		u.pid, err = start("", u.script, &syscall.ProcAttr{Dir: dir, Env: s.opt.Env, Files: files(u.stdio)})
	} else if err == nil {
		u.pid, err = startSupervise(s.opt.Supervise, s.opt.Env, u.sv.name, u.log, u.stdio)
	}
	if err != nil {
		u.pid = 0
		s.warn("unable to start ", what, ": ", err)
		s.short(u.dir(), err)
		return
	}
	u.id = fileID{st.Dev, st.Ino}
	if !u.log {
		s.watchTied(u.sv)
	}
}

// startSupervise starts `supervise NAME`, or `supervise log` inside NAME for the
// logger, with env and with files as its descriptors 0, 1 and 2 (the pipe
// on the service's stdout or the logger's stdin), and returns its pid.
// The child gets those three and nothing else: everything svscan opens is
// close-on-exec. path is the supervise program; empty, it is found in
// $PATH as daemontools finds it, a relative element of $PATH taken inside
// NAME for the logger.
func startSupervise(path string, env []string, name string, log bool, stdio [3]int) (int, error) {
	argv := []string{"supervise", name}
	attr := &syscall.ProcAttr{Env: env, Files: files(stdio)}
	if log {
		argv[1] = "log"
		attr.Dir = name
	}
	return start(path, argv, attr)
}

func files(stdio [3]int) []uintptr {
	return []uintptr{uintptr(stdio[0]), uintptr(stdio[1]), uintptr(stdio[2])}
}

// start runs argv: the program at path, or when path is empty argv[0]
// found in $PATH as daemontools finds it (a relative element of $PATH is
// taken inside attr.Dir), and returns its pid.
func start(path string, argv []string, attr *syscall.ProcAttr) (int, error) {
	if path != "" {
		return syscall.ForkExec(path, argv, attr)
	}
	pid := 0
	err := pathexec.Find(argv[0], func(path string) error {
		var err error
		pid, err = syscall.ForkExec(path, argv, attr)
		return err
	})
	return pid, err
}

// elsewhere tells whether a supervise that this svscan did not start
// runs in the slot's directory (an earlier svscan's, killed with -9, as
// README says to replace svscan): its ok FIFO has a reader, as svok
// would tell. Such a supervise is left to supervise its service, and
// told as svc tells it when the service is to stop (foreign); a
// supervise of this svscan's beside it could only fail on its lock.
func (s *Scanner) elsewhere(u *slot) bool {
	fd, err := unix.Openat(s.dir, u.dir()+"/supervise/ok", unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// handOff gives a service that got a pidfile file while it ran inside
// svscan -1 to a supervise process of its own (ownProcess), which adopts
// it: its next daemon is then told from the orphans of other services. A
// supervise that cannot be started leaves the service supervised here,
// adopted again, until the next full scan tries once more. A tied service
// stays here: svscan exits with its exit code, which the supervise could
// not learn of a process that is not its child.
func (s *Scanner) handOff(u *slot, now time.Time) {
	sup := u.sup
	u.sup = nil
	guard(func() error { sup.Close(); return nil })
	if s.spawn(u); u.pid == 0 {
		s.openHere(u, now)
	}
}

// step runs f on the slot's supervisor, then watches what it now waits
// for, or ends the supervisor once it is done. A panic in f is reported
// and the supervisor built again, adopting its service.
func (s *Scanner) step(u *slot, f func(), now time.Time) {
	sup := u.sup
	if err := guard(func() error { f(); return nil }); err != nil {
		s.warn("supervisor of ", u.dir(), " crashed: ", err, "; taking it up again")
		u.sup = nil
		guard(func() error { sup.Close(); return nil })
		// Once a second at most: a supervisor that crashes at every
		// start waits for the next scan.
		if now.Sub(u.crashed) >= time.Second {
			u.crashed = now
			s.open(u, now)
			// One rebuilt during a stop takes it up where it was.
			if u.sup != nil && u.told != "" {
				s.step(u, func() { u.sup.Obey(now, []byte(u.told)) }, now)
			}
		}
		return
	}
	if sup.Done() {
		sup.End()
		sup.Close()
		u.sup = nil
		if s.single {
			s.phase = stopped
		}
	} else if err := s.loop.watch(sup, u.key); err != nil {
		s.warn("unable to watch ", u.dir(), ": ", err)
	}
	if !u.log {
		s.checkTied(u.sv)
	}
}

// guard runs f and turns a panic in it into an error.
func guard(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = strerr.Text(fmt.Sprint("panic: ", p))
		}
	}()
	return f()
}

// spare is how many descriptors must be free for a new supervisor here:
// the most one holds (its directory, lock, control twice, ok, a pidfd,
// the readiness pipe and socket) and as many again for starting any
// service (the exec error pipe, the new pidfd and readiness pipe,
// status.new, a settings file). A supervisor opened into the last few
// would leave its own service, or one already supervised that exits,
// unable to start. Plain svscan holds no descriptor per supervisor.
const spare = 16

// haveSpare tells whether spare descriptors are free, by taking them;
// always, in plain svscan.
func (s *Scanner) haveSpare() bool {
	if !s.opt.InProcess {
		return true
	}
	var fds [spare]int
	n := 0
	for ; n < spare; n++ {
		fd, err := unix.FcntlInt(uintptr(s.dir), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			break
		}
		fds[n] = fd
	}
	for _, fd := range fds[:n] {
		unix.Close(fd)
	}
	return n == spare
}

// short says so when err means descriptors ran out.
func (s *Scanner) short(dir string, err error) {
	if !errors.Is(err, unix.EMFILE) && !errors.Is(err, unix.ENFILE) {
		return
	}
	var lim unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	s.warn("out of descriptors (limit ", strconv.FormatUint(lim.Cur, 10), "): ", dir,
		" is not supervised, the services already supervised stay so; trying again at the next scan")
}
