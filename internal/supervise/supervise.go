// Package supervise is the supervisor of one service: it starts ./run,
// starts it again whenever it exits while wanted up (at most once a
// second), obeys the one-byte commands svc writes to supervise/control, and
// records every change in supervise/status, as daemontools' supervise does.
//
// A Supervisor is a value that owns one service and nothing else: the
// service directory through a descriptor (never the process's working
// directory), its lock, FIFOs and status record, and the children it
// started, which it reaps through their pidfds. Several can run in one
// process. Process-wide matters (signal handlers, inherited descriptors)
// are the caller's.
//
// A Supervisor never waits: its driver (the event loop of internal/scan,
// for the supervise program and for svscan -1 alike) waits for it. The
// contract: after Open and Begin, and after every Step or Obey, the driver
// watches for reading every descriptor Watched lists and wakes after
// Timeout at the latest, then calls Step; on SIGCHLD it reaps the children
// that are not a supervisor's (orphans) and calls Step of the supervisor
// whose child has exited (Pid). A supervisor that is Done is ended with End
// and Close.
//
// Inside, the supervisor is a state machine (engine.go): what happens
// becomes an event, and one table says what each event does in each
// state, through effects (effects.go) that the tests replace.
package supervise

import (
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/eventfifo"
	"daemontools/internal/health"
	"daemontools/internal/procstart"
	"daemontools/internal/rawsys"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

const (
	lockFile = "supervise/lock"
	// restartGap is the least time between two starts of ./run.
	restartGap = time.Second
)

// Options say which service to supervise and what its programs get.
type Options struct {
	Dir    string    // the service directory, as the user gave it: opened once, and named in messages
	Env    []string  // environment of ./run
	Stdio  [3]int    // descriptors ./run gets as 0, 1 and 2
	Stderr io.Writer // warnings
	// Alone says that the process is a child subreaper that runs this
	// supervisor and no other: every other child it has is an orphan of
	// this service, which a stop of a service with a pidfile then stops
	// too, and a MAINPID= may name.
	Alone bool
}

// Supervisor supervises one service; see Open, Begin, Step and Close.
type Supervisor struct {
	opt  Options
	dir  int    // the service directory
	cwd  string // what a child chdirs to: the directory through /proc, or Dir without it
	lock int
	ctl  *control.Listener

	fx     effects // the world, as the handlers (engine.go) see it
	state  state
	alarm  time.Time   // see state; zero when none
	dirty  bool        // the status record is to be written (flush)
	child  child       // ./run while up or stopping, ./finish while finishing
	since  tai64.Label // when the pid last changed
	paused bool
	want   byte // status.WantUp, WantDown or WantNone
	// stopSent: the process watched was sent a stop signal (svc -d, -t)
	// and has not exited yet, runit's "got TERM".
	stopSent bool
	// stopSince: when the stop of the process watched began (its down
	// signal), while stopping; what timeout-kill counts from.
	stopSince tai64.Label
	// startError: why the latest start of ./run failed; empty once one
	// succeeds.
	startError string
	// pidWritten is the pid in supervise/pid, -1 before it is written;
	// statWritten the line in supervise/stat, "" before.
	pidWritten  int
	statWritten string
	// marked: status.MarkFile may mark a start under way that the next
	// record written makes old (from Open, and each start of ./run on).
	marked bool
	// markFile: status.MarkFile, open for writing once written (see
	// writeMark); -1 before.
	markFile int

	exiting    bool // svc -x: exit once the service is down
	startAsked bool // svc -u or -o asked for a start not yet made: -x waits for it

	lastStart time.Time
	nextStart time.Time     // while finishing: when ./run may start again
	starts    uint32        // of ./run, since Open
	pause     time.Duration // before the next start of a crash-looping service
	exited    bool          // ./run has exited since Open
	lastExit  exit

	runStart  uint64       // ./run's latest start on /proc's clock (procstart.Now)
	runID     procstart.ID // when ./run's latest process started, as the record says it
	await     awaiting     // while awaitingDaemon
	leftovers []child      // while stopping or draining a service with a pidfile: its other processes
	stopExit  exit         // while draining: how the service's process exited
	ready     readiness
	warnings  strerr.Limiter // of what the notify socket hears

	probe *health.Prober // the health probes, while the service runs
	// healthStop: the probes stopped the process watched, the last
	// saying healthStopProbe; exitUnhealthy and exitProbe, the same of
	// the last exit.
	healthStop      bool
	healthStopProbe string
	exitUnhealthy   bool
	exitProbe       string

	// scanDir is the directory of the service's siblings, name its
	// name there: where needs/ names are looked for (needs.go).
	scanDir, name string
	needs         needWatch // while waiting
	waitingFor    []string  // while waiting: the needed services not yet ready
}

// Open takes charge of the service in opt.Dir: it makes supervise/, takes
// its lock, makes the FIFOs and records the service down; clients see it
// supervised from then on. Run starts the service. A failure is a fatal
// error in daemontools' words, and leaves nothing open.
func Open(opt Options) (*Supervisor, error) {
	s := &Supervisor{opt: opt, dir: -1, lock: -1, want: status.WantUp, child: noChild, pause: restartGap, ready: newReadiness(),
		pidWritten: -1, marked: true, markFile: -1, warnings: strerr.Limiter{Every: time.Second}, probe: health.New(),
		needs: needWatch{fd: -1}}
	s.scanDir, s.name = scanDirOf(opt.Dir)
	s.fx = (*system)(s)
	if err := s.open(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Supervisor) open() error {
	dir, err := unix.Open(s.opt.Dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		s.dir = dir
		// What chdir would check: search permission, for the
		// effective user (root's real uid under a lowered euid would
		// pass where chdir fails).
		err = unix.Faccessat(dir, ".", unix.X_OK, unix.AT_EACCESS)
	}
	if err != nil {
		return strerr.Fatal("unable to chdir to ", s.opt.Dir, ": ", err)
	}
	s.cwd = "/proc/self/fd/" + strconv.Itoa(dir)
	if unix.Access(s.cwd, unix.X_OK) != nil {
		// No /proc: the path, resolved when ./run starts.
		if s.cwd, err = filepath.Abs(s.opt.Dir); err != nil {
			return strerr.Fatal("unable to chdir to ", s.opt.Dir, ": ", err)
		}
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dir, "down", &st, 0); err == nil {
		s.want = status.WantDown
	} else if err != unix.ENOENT {
		return strerr.Fatal("unable to stat ", s.opt.Dir, "/down: ", err)
	}
	if unix.Mkdirat(dir, "supervise", 0o700) == unix.EEXIST {
		// runit's trees link supervise to a directory under /run that
		// runsv makes, one level, at start (Debian's /etc/sv/*): so do we.
		var target [4096]byte
		if n, err := unix.Readlinkat(dir, "supervise", target[:]); err == nil && n < len(target) {
			unix.Mkdirat(dir, string(target[:n]), 0o700)
		}
	}
	// Non-blocking: a FIFO named lock fails with ENXIO, as daemontools'.
	s.lock, err = unix.Openat(dir, lockFile, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
	if err == nil {
		err = unix.Flock(s.lock, unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		return strerr.Fatal("unable to acquire ", s.opt.Dir, "/", lockFile, ": ", err)
	}
	if s.ctl, err = control.Listen(dir); err != nil {
		return s.fatal(err)
	}
	eventfifo.Make(dir) // without it, waiters watch through inotify
	s.since = tai64.Now()
	s.adopt()
	s.announce()
	if err := s.ctl.Ready(); err != nil {
		return s.fatal(err)
	}
	return nil
}

// adopt takes over the process that the status record of a previous
// supervisor names, if it still runs: the service's process, or ./finish
// while it runs, or the ./run of a start under way that the record does
// not name yet (status.MarkFile, spawned). The pid must
// be alive and must have started when the record says, so a pid reused
// since is never taken for it. The process
// is watched through a pidfd; it is not our child, so how it ends cannot
// be known. What the record says of the service (wanted state, pause,
// restarts, last exit, a stop under way and since when) carries over.
func (s *Supervisor) adopt() {
	old, err := status.ReadAllAt(s.dir, status.File)
	if err != nil {
		return
	}
	// A mark is old once the record names a process started since (the
	// record of the start was written, the mark not yet cleared).
	mark := status.ReadMark(s.dir)
	if old.Start.Boot == mark.Start.Boot &&
		procstart.StartedAfter(procstart.Stat{Pid: max(old.Pid, old.FinishPid), Start: old.Start.Ticks}, mark.Start.Ticks, mark.LastPid) {
		mark = status.Mark{}
	}
	switch {
	case mark != (status.Mark{}):
		// Killed between the mark and the record naming the new ./run:
		// the process the record names, if any, has exited unseen.
		if old.Pid != 0 {
			old.Exited, old.LastExit = true, status.Exit{Unknown: true}
		}
		old.Start, old.AwaitingDaemon, old.Paused = mark.Start, false, false
		c, since, ok := s.spawned(mark)
		if !ok {
			// Not started, or gone since: if it forked a daemon,
			// that is awaited as after an exit of ./run.
			if !s.takeOverWait(old) {
				return
			}
			break
		}
		s.child, s.state = c, s.upState()
		s.runStart, s.runID = c.start.Ticks, c.start
		old.Since = since
	case old.Start == (procstart.ID{}):
		return
	case old.Pid != 0:
		c, ok := adoptable(old.Pid, old.Start)
		if !ok {
			// ./run, gone since: if it forked a daemon, the record
			// could not yet say so.
			if old.FromPidfile || old.FromMainpid || !s.takeOverWait(old) {
				return
			}
			break
		}
		s.child = c
		switch {
		case old.FromPidfile:
			s.child.named = byPidfile
		case old.FromMainpid:
			s.child.named = byMainpid
		default:
			s.runStart, s.runID = old.Start.Ticks, old.Start // ./run's: its daemon may come
		}
		// A readiness the process has said is still its own; one not
		// said yet can no longer be heard.
		if old.Ready != (tai64.Label{}) {
			s.ready.has, s.ready.since, s.ready.text = true, old.Ready, old.Text
		}
		s.state = s.upState()
		if old.State == status.Stopping {
			// Its down signal was sent: KILL comes timeout-kill after
			// that, whoever sent it.
			s.state, s.stopSince = stopping, old.StopSince
			if s.stopSince == (tai64.Label{}) {
				s.stopSince = tai64.Now() // a record that does not say
			}
			if t := s.timeoutKill(); t > 0 {
				s.alarm = s.stopSince.Time().Add(t)
			}
		}
		s.stopSent = old.StopSent
	case old.AwaitingDaemon:
		if !s.takeOverWait(old) {
			return
		}
	case old.Finishing && old.FinishPid != 0:
		// ./run starts again only once the old ./finish is done.
		c, ok := adoptable(old.FinishPid, old.Start)
		if !ok {
			return
		}
		c.finish = true
		s.child, s.state = c, finishing
		s.nextStart = time.Now()
		if old.NextStart != (tai64.Label{}) {
			s.nextStart = old.NextStart.Time()
		}
		if t := s.timeoutFinish(); t > 0 {
			s.alarm = old.Since.Time().Add(t) // ./run exited, ./finish started
		}
	default:
		return
	}
	s.since, s.paused, s.want = old.Since, old.Paused, old.Want
	s.starts = old.Restarts + 1
	s.exited, s.lastExit = old.Exited, exit{old.LastExit.Code, old.LastExit.Signal}
	if old.LastExit.Unknown {
		s.lastExit = exitUnknown
	}
	s.exitUnhealthy, s.exitProbe = old.LastExit.Unhealthy, old.LastExit.Probe
	if s.state.up() {
		s.startProbes(time.Now())
	}
}

// takeOverWait goes on with the wait for the daemon of a service with a
// pidfile, whose ./run the record old names, started when it says, and
// exited (the record may not yet say so): rather than a second ./run
// starting a second daemon, the daemon is looked for among the orphans
// of the process that reaped ./run's. It tells whether it did: not
// without a pidfile file, nor across a reboot.
func (s *Supervisor) takeOverWait(old status.Status) bool {
	self, err := procstart.Of(unix.Getpid())
	path, ok := s.fx.setting(pidfileFile)
	if err != nil || self.Boot != old.Start.Boot || !ok || path == "" {
		return false
	}
	now := time.Now()
	s.state, s.runStart, s.runID = awaitingDaemon, old.Start.Ticks, old.Start
	e := exitUnknown // ./run gone, unseen
	if old.AwaitingDaemon {
		e = exit{} // the record says it exited 0
	}
	s.await = awaiting{path: path, until: now.Add(pidfileWait), orphansElsewhere: true, exit: e}
	s.alarm = now // look at once
	return true
}

// adoptable opens a pidfd on the process pid if it started at start, so
// that a pid reused since is never taken for it.
func adoptable(pid int, start procstart.ID) (child, bool) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return noChild, false
	}
	// Looked at after the pidfd is had: a match means the pidfd is of the
	// process the record names, not of one that got its pid since.
	if now, err := procstart.Of(pid); err != nil || now != start {
		unix.Close(pidfd)
		return noChild, false
	}
	return child{pid: pid, pidfd: pidfd, start: start, adopted: true}, true
}

// fatal turns a *control.Error into daemontools' message for it.
func (s *Supervisor) fatal(err error) error {
	var e *control.Error
	if !errors.As(err, &e) {
		return strerr.Fatal(err)
	}
	return strerr.Fatal("unable to ", e.Verb, " ", s.opt.Dir, "/", e.File, ": ", e.Err)
}

// Close lets go of the service: FIFOs, lock and directory. A child still
// running is left running, as after a kill of daemontools' supervise.
func (s *Supervisor) Close() {
	if s.ctl != nil {
		s.ctl.Close()
	}
	s.child.release()
	s.ready.closeSocket()
	s.probe.Close()
	s.needs.close()
	for _, fd := range []int{s.markFile, s.lock, s.dir} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
	s.markFile, s.lock, s.dir = -1, -1, -1
}

// Begin starts the service at now, unless it is normally down or was
// adopted: the first thing to do after Open.
func (s *Supervisor) Begin(now time.Time) { s.dispatch(now, input{ev: evBegin}) }

// End records the service as it is left, once Done: the last thing to do
// before Close.
func (s *Supervisor) End() { s.announce() }

// Watched appends to fds every descriptor the driver must watch for
// reading until the next Step: the control FIFO, the pidfds of the child
// and of a stop's leftovers, the readiness pipe and the notify socket. The
// list changes with every Step; a descriptor no longer listed may have
// been closed.
func (s *Supervisor) Watched(fds []int) []int {
	fds = append(fds, s.ctl.Commands)
	for _, c := range s.leftovers {
		fds = append(fds, c.pidfd)
	}
	if s.child.pidfd >= 0 {
		fds = append(fds, s.child.pidfd)
	}
	pipe, socket := s.ready.pollFds()
	needs := -1
	if s.state == waiting {
		needs = s.needs.fd
	}
	for _, fd := range []int{pipe, socket, s.probe.Fd(), needs} {
		if fd >= 0 {
			fds = append(fds, fd)
		}
	}
	return fds
}

// Pid is the pid of the process the supervisor watches (./run, ./finish,
// or a daemon named by a pidfile), 0 for none: a child that the driver
// leaves to the supervisor's Step when it exits, rather than reaping it.
func (s *Supervisor) Pid() int { return s.child.pid }

// Path is a path to the service directory that stays right wherever the
// directory moves (through /proc when there is one).
func (s *Supervisor) Path() string { return s.cwd }

// Done says whether the supervisor is to end: told to, and the service
// down, ./finish included. "svc -ux" on a service that is down runs it
// once, as with daemontools, even when the start waits for the restart gap.
func (s *Supervisor) Done() bool {
	return s.exiting && (s.state == stopped || s.state == backoff || s.state == failed || s.state == waiting || s.state == done) && !s.startAsked
}

// Running says whether the service runs with nothing under way: no stop,
// no ./finish, no daemon awaited, no readiness still to be said, no
// watchdog, no exit asked for. A supervisor that Opens the directory
// after Close then adopts it as it is; it could not hear the readiness or
// the WATCHDOG=1 of a process it did not start (the pipe and the socket
// close with this one).
func (s *Supervisor) Running() bool {
	return s.state == running && !s.exiting && len(s.leftovers) == 0 && s.ready.watchdog == 0
}

// Timeout is how long the driver may wait at now before calling Step:
// until the alarm; -1 for as long as nothing happens.
func (s *Supervisor) Timeout(now time.Time) time.Duration {
	probe := s.probe.Timeout(now)
	if s.alarm.IsZero() {
		return probe
	}
	if alarm := max(0, s.alarm.Sub(now)); probe < 0 || alarm < probe {
		return alarm
	}
	return probe
}

// Step does whatever is to be done at now, without blocking: it reaps an
// exited child, notes the leftovers of a stop that have exited, hears what
// ./run says, obeys the commands waiting in the control FIFO, and acts on
// an alarm that has fallen due; each as an event for the engine.
func (s *Supervisor) Step(now time.Time) {
	if s.child.pid != 0 {
		if e, exited := s.fx.reap(&s.child); exited {
			in := input{ev: evRunExited, exit: e}
			if s.child.finish {
				in.ev = evFinishExited
			}
			s.dispatch(now, in)
		}
	}
	if len(s.leftovers) > 0 && !s.pruneLeftovers() {
		s.dispatch(now, input{ev: evLeftoversGone})
	}
	if s.Done() {
		return
	}
	s.hear(now)
	var b [64]byte
	n, _ := rawsys.Read(s.ctl.Commands, b[:])
	if s.Obey(now, b[:max(n, 0)]); s.Done() {
		return
	}
	s.probed(now)
	if s.state == waiting && s.needs.heard() {
		s.dispatch(now, input{ev: evNeedsChanged})
	}
	if !s.alarm.IsZero() && !now.Before(s.alarm) {
		s.dispatch(now, input{ev: evTimer})
	}
}

// Obey carries out commands as if they had come through the control FIFO,
// up to the one that makes the supervisor done: how a driver gives its
// own commands (svscan's stop, supervise's SIGTERM as svc -dx). The record
// is written once, after them all: were the supervisor killed between
// the d and the u of svc -du, a record saying "want down" would keep the
// next supervisor from starting the service, and the u would be lost.
func (s *Supervisor) Obey(now time.Time, commands []byte) {
	defer s.flush()
	for _, c := range commands {
		if in, ok := commandEvent(c); ok {
			s.handle(now, in)
		}
		if s.Done() {
			return // like daemontools, which reads a byte at a time
		}
	}
}

// record is the status record of the moment.
func (s *Supervisor) record() status.Status {
	r := status.Status{Since: s.since, Paused: s.paused, Want: s.want, Exited: s.exited,
		Readiness: s.ready.has, Ready: s.ready.since, Text: s.ready.text, StartError: s.startError}
	if s.starts > 0 {
		r.Restarts = s.starts - 1
	}
	if s.exited {
		r.LastExit = status.Exit{Code: s.lastExit.code, Signal: s.lastExit.signal}
		if s.lastExit == exitUnknown {
			r.LastExit = status.Exit{Unknown: true}
		}
		r.LastExit.Watchdog = s.ready.watchdogExit
		r.LastExit.Unhealthy, r.LastExit.Probe = s.exitUnhealthy, s.exitProbe
	}
	switch s.state {
	case stopped:
		r.State = status.Stopped
	case backoff:
		r.State, r.NextStart = status.Stopped, tai64.FromTime(s.alarm)
	case waiting:
		r.State, r.Waiting = status.Stopped, status.WaitingString(s.waitingFor)
	case done:
		r.State, r.Done = status.Stopped, true
	case failed:
		r.State = status.Failed
	case starting:
		r.State, r.Pid, r.Start = status.Starting, s.child.pid, s.child.start
	case running:
		r.State, r.Pid, r.Start = status.Running, s.child.pid, s.child.start
	case awaitingDaemon:
		r.State, r.AwaitingDaemon, r.Start = status.Starting, true, s.runID
	case stopping:
		r.State, r.Pid, r.Start, r.StopSince = status.Stopping, s.child.pid, s.child.start, s.stopSince
	case draining:
		r.State = status.Stopping
	case finishing:
		r.State, r.Finishing = status.Stopping, true
		r.FinishPid, r.Start = s.child.pid, s.child.start
		if s.want == status.WantUp || s.startAsked {
			r.NextStart = tai64.FromTime(s.nextStart)
		}
	}
	if r.Pid != 0 {
		r.FromPidfile, r.FromMainpid = s.child.named == byPidfile, s.child.named == byMainpid
		r.StopSent = s.stopSent
		r.Health, r.Failures, r.Probe = s.probe.Health(), s.probe.Failures(), s.probe.Line()
	}
	return r
}
