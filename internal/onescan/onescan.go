// Package onescan is `svscan -1`: the supervisor of every service, and of
// its log service, lives inside the svscan process, and one event loop
// drives them all (epoll over every control FIFO and child pidfd, the
// nearest alarm as its timeout) instead of a supervise process each. Each
// supervisor keeps every file of supervise/ (lock, control, ok, status)
// as supervise does, so clients cannot tell the difference.
//
// A supervisor that panics is reported and built again at once; it adopts
// its running service, so nothing is started twice. A service that cannot
// be supervised for want of descriptors is reported and tried again at
// the next scan, the others staying supervised.
package onescan

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/quiet"
	"daemontools/internal/scan"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/supervise"
)

// unit is one supervisor slot: a service or its log service.
type unit struct {
	key     int32  // its events' key in the epoll set
	dir     string // the directory, relative to the scanned one
	log     bool   // the logger's: dir is NAME/log
	stdio   [3]int
	sup     *supervise.Supervisor // nil while there is none (after svc -x, or a failed Open)
	crashed time.Time             // when it last panicked
	told    string                // the commands of its service's stop so far
	tied    bool                  // the main unit of a service with a scan.TiedFile
	// pid is the supervise process that supervises a service with a
	// pidfile file instead (ownProcess); 0 when none runs.
	pid int
	id  fileID // of dir, once pid is started
}

// pidfileFile is supervise's: a service with one runs a daemon that forks.
const pidfileFile = "pidfile"

// ownProcess tells whether the service in dir gets a supervise process of
// its own: one with a pidfile file, whose daemon is an orphan of ./run.
// In one process the orphans of every service come back to svscan, and
// none can tell whose is whose; a supervise of its own, a child subreaper
// to which only this service's orphans come back, can (doc/extensions.md's
// "descended from ./run"), and reaps and stops them as plain svscan's do.
// Every full scan asks it of every service running here: the path is
// made in a buffer kept for it and the call is quiet's, so that an idle
// svscan -1 neither allocates nor wakes the Go runtime.
func (s *Scanner) ownProcess(dir string) bool {
	s.path = append(append(append(s.path[:0], dir...), "/"+pidfileFile...), 0)
	_, err := quiet.LstatName(s.path[:len(s.path)-1])
	return err == nil
}

// service is a service directory: its unit, its log's, and the pipe
// between them, which svscan holds for as long as the entry lives, with
// the stop of both once it leaves (plain svscan's, scan.Pair).
type service struct {
	id   fileID
	main *unit
	log  *unit // nil without log/
	scan.Pair
	seen    bool
	leaving bool // the directory has gone, or svscan is stopping
}

type fileID struct{ dev, ino uint64 }

// Scanner is svscan -1's state; Run drives it from one goroutine.
type Scanner struct {
	stderr   io.Writer
	env      []string
	dir      int    // the scanned directory, held open: a scan needs no new descriptor
	dirBuf   []byte // its entries, read in place (quiet.Entries)
	path     []byte // a path made for quiet's calls, NUL-terminated
	poller   *quiet.Poller
	services map[fileID]*service
	units    map[int32]*unit
	lastKey  int32
	statuses int  // inotify of the supervise/ of tied services under a supervise process
	stopping bool // every service is leaving; Run returns once all are gone
	exit     int  // svscan's exit code once stopped: a tied service's
}

// Keys of the events that are not a unit's; units' follow.
const (
	keySignal = iota
	keyNotify
	keyStatus // a status record of a tied service under a supervise process
)

// New returns a Scanner of the current directory that writes warnings to
// stderr and gives services env.
func New(stderr io.Writer, env []string) (*Scanner, error) {
	dir, err := unix.Open(".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, strerr.Fatal("unable to open .: ", err)
	}
	poller, err := quiet.NewPoller()
	if err != nil {
		unix.Close(dir)
		return nil, strerr.Fatal("unable to create epoll: ", err)
	}
	return &Scanner{stderr: stderr, env: env, dir: dir, dirBuf: make([]byte, 8192), poller: poller,
		statuses: -1, lastKey: keyStatus, services: make(map[fileID]*service), units: make(map[int32]*unit)}, nil
}

func (s *Scanner) warn(parts ...any) { strerr.Warn(s.stderr, "svscan", parts...) }

// watch adds fd to the epoll set under key; an fd already there is fine.
func (s *Scanner) watch(fd int, key int32) error {
	err := s.poller.Add(fd, key)
	if errors.Is(err, unix.EEXIST) {
		return nil
	}
	return err
}

// Scan reads the directory once: it starts supervising what is new and
// retires what has gone. A full scan also takes up again every supervisor
// that has ended (svc -x) or could not be opened, as daemontools' svscan
// starts a supervise again. A scan that finds nothing new makes no
// system call but quiet's and allocates nothing.
func (s *Scanner) Scan(full bool, now time.Time) {
	for _, sv := range s.services {
		sv.seen = false
	}
	err := quiet.Entries(s.dir, s.dirBuf, func(name []byte) { s.look(name, full, now) })
	if err != nil {
		s.warn("unable to read directory: ", err)
		return // half a listing cannot tell what has gone
	}
	for _, sv := range s.services {
		if !sv.seen {
			sv.leaving = true
		}
	}
}

// look takes up the entry name if it is a service directory.
func (s *Scanner) look(name []byte, full bool, now time.Time) {
	if name[0] == '.' {
		return
	}
	st, err := quiet.StatName(name)
	if err != nil {
		s.warn("unable to stat ", string(name), ": ", err)
		if !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			s.keep(string(name))
		}
		return
	}
	if !st.IsDir() {
		return
	}
	id := fileID{st.Dev, st.Ino}
	sv := s.services[id]
	if sv == nil {
		if sv = s.add(string(name), id); sv == nil {
			return
		}
		full = true
	}
	sv.seen = true
	if sv.leaving || !full {
		return
	}
	// The directory may have been renamed: its units follow.
	if sv.main.dir != string(name) {
		sv.main.dir = string(name)
		if sv.log != nil {
			sv.log.dir = sv.main.dir + "/log"
		}
	}
	for _, u := range []*unit{sv.main, sv.log} {
		switch {
		case u == nil:
		case u.sup == nil && u.pid == 0:
			s.open(u, now)
		case u.sup != nil && !u.tied && u.sup.Running() && s.ownProcess(u.dir):
			s.handOff(u, now)
		}
	}
}

// handOff gives a service that got a pidfile file while it ran here to a
// supervise process of its own (ownProcess), which adopts it: its next
// daemon is then told from the orphans of other services. A supervise
// that cannot be started leaves the service supervised here, adopted
// again, until the next full scan tries once more. A tied service stays
// here: svscan exits with its exit code, which the supervise could not
// learn of a process that is not its child.
func (s *Scanner) handOff(u *unit, now time.Time) {
	sup := u.sup
	u.sup = nil
	s.guard(u, func() error { sup.Close(); return nil })
	if s.spawn(u); u.pid == 0 {
		s.openHere(u, now)
	}
}

// keep counts the service last seen as name as still there.
func (s *Scanner) keep(name string) {
	for _, sv := range s.services {
		if sv.main.dir == name {
			sv.seen = true
		}
	}
}

// add records a new service directory, with the pipe to its logger.
func (s *Scanner) add(name string, id fileID) *service {
	if len(s.services) >= scan.MaxServices {
		s.warn("unable to start ", name, ": running too many services")
		return nil
	}
	sv := &service{id: id, Pair: scan.Pair{Pipe: [2]int{-1, -1}}}
	var st unix.Stat_t
	hasLog := false
	if err := unix.Stat(name+"/log", &st); err == nil {
		hasLog = st.Mode&unix.S_IFMT == unix.S_IFDIR
	} else if !errors.Is(err, unix.ENOENT) {
		s.warn("unable to stat ", name, "/log: ", err)
		return nil
	}
	sv.main = s.newUnit(name, [3]int{0, 1, 2})
	if hasLog {
		// Nor can a pipe take what is kept for starting services.
		if !s.haveSpare() {
			s.short(name, unix.EMFILE)
			delete(s.units, sv.main.key)
			return nil
		}
		pipe, ok := survivingPipe(name)
		if !ok {
			if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
				s.warn("unable to create pipe for ", name, ": ", err)
				s.short(name, err)
				delete(s.units, sv.main.key)
				return nil
			}
		}
		sv.Pipe = pipe
		sv.main.stdio[1] = sv.Pipe[1]
		sv.log = s.newUnit(name+"/log", [3]int{sv.Pipe[0], 1, 2})
		sv.log.log = true
	}
	sv.main.tied = scan.IsTied(name)
	s.services[id] = sv
	return sv
}

func (s *Scanner) newUnit(dir string, stdio [3]int) *unit {
	s.lastKey++
	u := &unit{key: s.lastKey, dir: dir, stdio: stdio}
	s.units[u.key] = u
	return u
}

// open builds the unit's supervisor and starts its service (or adopts
// it). A failure is reported; the next full scan tries again.
func (s *Scanner) open(u *unit, now time.Time) {
	if !s.haveSpare() {
		s.short(u.dir, unix.EMFILE)
		return
	}
	if s.ownProcess(u.dir) {
		s.spawn(u)
		return
	}
	s.openHere(u, now)
}

// openHere builds the unit's supervisor inside svscan.
func (s *Scanner) openHere(u *unit, now time.Time) {
	var sup *supervise.Supervisor
	err := s.guard(u, func() error {
		var err error
		sup, err = supervise.Open(supervise.Options{Dir: u.dir, Env: s.env, Stdio: u.stdio, Stderr: s.stderr, ChildSignal: -1})
		return err
	})
	if err != nil {
		s.unsupervised(u, err)
		return
	}
	ctl, _ := sup.Descriptors()
	if err := s.watch(ctl, u.key); err != nil {
		s.unsupervised(u, strerr.Fatal("unable to watch ", u.dir, "/supervise/control: ", err))
		sup.Close()
		return
	}
	u.sup = sup
	s.step(u, func() { sup.Begin(now) }, now)
}

// spawn starts a supervise process for the unit, as plain svscan does.
func (s *Scanner) spawn(u *unit) {
	var st unix.Stat_t
	err := unix.Stat(u.dir, &st)
	if err == nil {
		u.pid, err = scan.Spawn(s.env, strings.TrimSuffix(u.dir, "/log"), u.log, u.stdio)
	}
	if err != nil {
		u.pid = 0
		s.warn("unable to start supervise ", u.dir, ": ", err)
		s.short(u.dir, err)
		return
	}
	u.id = fileID{st.Dev, st.Ino}
	if u.tied && s.statuses >= 0 {
		// Made here, as supervise makes it, to be watched from the start.
		unix.Mkdir(u.dir+"/supervise", 0o700)
		if _, err := unix.InotifyAddWatch(s.statuses, u.dir+"/supervise", unix.IN_MOVED_TO|unix.IN_CLOSE_WRITE|unix.IN_ONLYDIR); err != nil {
			s.warn("unable to watch ", u.dir, "/supervise: ", err)
		}
	}
}

// step runs f on the unit's supervisor, then watches its new child, or
// ends the supervisor once it is done. A panic in f is reported and the
// supervisor built again, adopting its service.
func (s *Scanner) step(u *unit, f func(), now time.Time) {
	sup := u.sup
	if err := s.guard(u, func() error { f(); return nil }); err != nil {
		s.warn("supervisor of ", u.dir, " crashed: ", err, "; taking it up again")
		u.sup = nil
		s.guard(u, func() error { sup.Close(); return nil })
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
		s.checkTied(u)
		return
	}
	s.checkTied(u)
	if _, child := sup.Descriptors(); child >= 0 {
		if err := s.watch(child, u.key); err != nil {
			s.warn("unable to watch the process of ", u.dir, ": ", err)
		}
	}
	pipe, socket := sup.ReadinessDescriptors()
	for _, fd := range []int{pipe, socket} {
		if fd < 0 {
			continue
		}
		if err := s.watch(fd, u.key); err != nil {
			s.warn("unable to watch the readiness of ", u.dir, ": ", err)
		}
	}
}

// spare is how many descriptors must be free for a new supervisor: the
// most one holds (its directory, lock, control twice, ok, a pidfd, the
// readiness pipe and socket) and as many again for starting any service
// (the exec error pipe, the new pidfd and readiness pipe, status.new, a
// settings file). A supervisor opened into the last few would leave its
// own service, or one already supervised that exits, unable to start.
const spare = 16

// haveSpare tells whether spare descriptors are free, by taking them.
func (s *Scanner) haveSpare() bool {
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

// guard runs f and turns a panic in it into an error.
func (s *Scanner) guard(u *unit, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = strerr.Text(fmt.Sprint("panic: ", p))
		}
	}()
	return f()
}

// unsupervised reports that u has no supervisor for err: as a supervise
// that failed would, and, when descriptors ran out, plainly.
func (s *Scanner) unsupervised(u *unit, err error) {
	strerr.Report(s.stderr, "supervise", err)
	s.short(u.dir, err)
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

// retire moves a leaving service one step towards its end, as plain
// svscan does (scan.Pair.Retire); with both of its supervisors ended, the
// entry is forgotten.
func (s *Scanner) retire(sv *service, now time.Time) {
	if !sv.Retire(s.member(sv.main, now), s.member(sv.log, now), now, s.warn) {
		return
	}
	delete(s.units, sv.main.key)
	if sv.log != nil {
		delete(s.units, sv.log.key)
	}
	delete(s.services, sv.id)
}

// member is a unit as the stop of its service reaches it: its supervise
// process through the control FIFO, or its supervisor here.
func (s *Scanner) member(u *unit, now time.Time) scan.Member {
	if u != nil && u.pid != 0 {
		return scan.Process(u.pid, u.dir, u.id.dev, u.id.ino, s.warn)
	}
	return member{s, u, now}
}

// member is a unit whose supervisor is in svscan, as the stop reaches it.
type member struct {
	s   *Scanner
	u   *unit // nil for the logger of a service without one
	now time.Time
}

func (m member) Present() bool { return m.u != nil && m.u.sup != nil }

// Tell obeys cmds at once: the loop never waits on a full FIFO.
func (m member) Tell(cmds string) bool {
	m.u.told += cmds
	m.s.step(m.u, func() { m.u.sup.Obey(m.now, []byte(cmds)) }, m.now)
	return true
}

func (m member) TimeoutKill() string { return m.u.sup.Path() + "/timeout-kill" }

// Stop begins svscan's orderly stop: every service leaves at once. Run
// returns once all are gone.
func (s *Scanner) Stop() {
	s.stopping = true
	for _, sv := range s.services {
		sv.leaving = true
	}
}

// checkTied stops svscan once a tied service is down for good
// (scan.TiedExit), with that service's last exit code.
func (s *Scanner) checkTied(u *unit) {
	if !u.tied || s.stopping {
		return
	}
	st, err := status.ReadAll(u.dir + "/" + status.File)
	if err != nil {
		return
	}
	if code, down := scan.TiedExit(st, u.sup == nil && u.pid == 0); down {
		s.exit = code
		s.Stop()
	}
}

// reapOrphans reaps every child that has exited and that no supervisor
// watches: the orphans of services, which come back to svscan (a child
// subreaper, or PID 1). A supervisor's own child is left to it, and it is
// stepped at once so that the orphans behind can be reaped.
func (s *Scanner) reapOrphans(now time.Time) {
	var owner *unit
	own := func(pid int) bool {
		for _, u := range s.units {
			if u.pid == pid || u.sup != nil && u.sup.Pid() == pid {
				owner = u
				return true
			}
		}
		return false
	}
	for last := 0; ; {
		pid := supervise.ReapOrphans(own)
		if pid == 0 || pid == last {
			return // none left, or its supervisor does not reap it yet
		}
		last = pid
		if owner.pid == pid {
			s.reaped(owner)
			continue
		}
		s.step(owner, func() { owner.sup.Step(now) }, now)
	}
}

// reaped collects the unit's supervise process, which has exited: the
// next full scan starts it again, as plain svscan does. One that was told
// to exit (svc -x) may end svscan, when tied.
func (s *Scanner) reaped(u *unit) {
	var ws unix.WaitStatus
	unix.Wait4(u.pid, &ws, unix.WNOHANG, nil)
	u.pid = 0
	if ws.Exited() && ws.ExitStatus() == 0 {
		s.checkTied(u)
	}
}
