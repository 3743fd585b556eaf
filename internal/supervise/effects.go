package supervise

import (
	"errors"
	"strconv"
	"syscall"
	"time"

	"daemontools/internal/eventfifo"
	"daemontools/internal/procstart"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
)

// effects is everything the engine's handlers ask of the world. system is
// the real one; the tests' fake records what is asked and answers as told.
type effects interface {
	// setting reads the first line of a file of the service directory,
	// without surrounding blanks; false when there is none.
	setting(name string) (string, bool)
	// startRun marks a start under way (status.MarkFile), then starts
	// ./run, with what its readiness files ask for; how the start can say
	// it is ready holds even when the start failed.
	startRun() (c child, how startReadiness, err error)
	// startFinish starts ./finish CODE SIGNAL for ./run's exit e;
	// errNoFinish when the service has none.
	startFinish(e exit) (child, error)
	// signal sends sig to a process.
	signal(c *child, sig syscall.Signal)
	// ended tells whether a process has exited (a leftover).
	ended(c *child) bool
	// reap collects the child if it has exited, without waiting, and
	// says how it ended.
	reap(c *child) (exit, bool)
	// write replaces the status record.
	write(r status.Status) error
	// unmark clears the mark of a start under way.
	unmark() error
	// post wakes the programs waiting for a new record.
	post()
	// writeRunit writes runsv's text files of r: supervise/pid when pid,
	// supervise/stat when stat.
	writeRunit(r status.Status, pid, stat bool) error
	// findLeftovers adds to known the processes still alive that a stop of
	// the service must also stop (pidfile.go).
	findLeftovers(known []child) []child
	// daemon takes charge of the daemon the pidfile names, if it is one
	// of ./run's processes, alive; else it says why not.
	daemon() (child, error)
	// trusted takes charge of process pid if it is one of ./run's, alive;
	// else it says why not, after named ("DIR/FILE names pid N, which ").
	trusted(pid int, named string) (child, error)
	// unmet is the services needs/ names that are not yet up and
	// ready (or done), watched for a change when there are some; heard
	// is false when a change will not be heard (no inotify).
	unmet() (names []string, heard bool)
	// unwatchNeeds ends the watch of unmet.
	unwatchNeeds()
}

// startReadiness is how a start of ./run can say it is ready.
type startReadiness struct {
	has      bool          // through notification-fd, notify-socket, or both
	sockets  bool          // through notify-socket
	watchdog time.Duration // timeout-watchdog; 0 for none
}

// errNoFinish is startFinish's answer for a service without ./finish.
var errNoFinish = errors.New("no finish")

// system is the real world of a supervisor: its service directory, its
// processes and /proc. It is the Supervisor itself, seen from its
// handlers' side.
type system Supervisor

func (x *system) warn(parts ...any) { (*Supervisor)(x).warn(parts...) }

// startRun marks the start under way: were this process killed before
// the record names the new ./run, the next supervisor finds that ./run by
// the moment the mark gives (adopt), and does not start a second. The
// mark is written in place, not replaced as the record is: a create and
// a rename before every fork took a tenth of a millisecond and more; and
// through a descriptor kept open (writeMark), one system call.
func (x *system) startRun() (child, startReadiness, error) {
	argv, files, env, how := x.prepare()
	moment, last, err := procstart.Mark()
	if x.runStart = moment.Ticks; err == nil {
		(*Supervisor)(x).warnWrite(x.writeMark(status.Mark{Start: moment, LastPid: last}))
	} else {
		x.runStart = procstart.Now()
	}
	c, err := x.spawn(argv, env, files)
	x.ready.started()
	if err != nil {
		x.ready.close()
	}
	return c, how, err
}

func (x *system) startFinish(e exit) (child, error) {
	if !x.hasFinish() {
		return noChild, errNoFinish
	}
	c, err := x.spawn([]string{"./finish", strconv.Itoa(e.code), strconv.Itoa(e.signal)}, x.opt.Env, nil)
	c.finish = err == nil
	return c, err
}

func (x *system) signal(c *child, sig syscall.Signal) { c.signal(sig) }

func (x *system) ended(c *child) bool { return c.exited() }

func (x *system) reap(c *child) (exit, bool) { return c.wait() }

func (x *system) write(r status.Status) error { return status.Write(x.dir, r) }

func (x *system) unmark() error { return x.writeMark(status.Mark{}) }

// writeMark writes m to status.MarkFile, which it opens at its first
// write (the one after Open) and keeps open until Close, so that a
// restart's mark is one system call before the fork. A failed open is
// tried again at the next write.
func (x *system) writeMark(m status.Mark) error {
	if x.markFile < 0 {
		fd, err := status.OpenMark(x.dir)
		if err != nil {
			return err
		}
		x.markFile = fd
	}
	return status.WriteMark(x.markFile, m)
}

func (x *system) post() { eventfifo.Post(x.dir) }

func (x *system) writeRunit(r status.Status, pid, stat bool) error {
	return status.WriteRunit(x.dir, r, pid, stat)
}

var _ effects = (*system)(nil)

// announce writes runsv's text files, then the status record, as runsv
// does: a client that sees the record sees them current. The first record
// written after a start's mark (or after Open) clears the mark.
func (s *Supervisor) announce() {
	r := s.record()
	s.writeRunit(r)
	err := s.fx.write(r)
	s.written(err)
	if err == nil && s.marked {
		s.marked = false
		s.warnWrite(s.fx.unmark())
	}
}

// written warns of a failed write of the record, or wakes the waiters,
// who read it.
func (s *Supervisor) written(err error) {
	s.warnWrite(err)
	if err == nil {
		s.fx.post()
	}
}

// writeRunit writes runsv's text files of r, each only when what it says
// has changed (a restart after a crash leaves supervise/stat "run"; its
// replace, a create and a rename, took a tenth of a millisecond and
// more), warning when it cannot.
func (s *Supervisor) writeRunit(r status.Status) {
	stat := r.Stat()
	err := s.fx.writeRunit(r, r.Pid != s.pidWritten, stat != s.statWritten)
	if err == nil {
		s.pidWritten, s.statWritten = r.Pid, stat
	}
	s.warnWrite(err)
}

// warnWrite warns of a failure to write a status file, if err is one.
func (s *Supervisor) warnWrite(err error) {
	var e *status.WriteError
	switch {
	case err == nil:
	case !errors.As(err, &e):
		s.warn("unable to write ", s.opt.Dir, "/", status.File, ": ", err)
	case e.Op == "rename":
		s.warn("unable to rename ", s.opt.Dir, "/", e.File, " to ", e.Target(), ": ", e.Err)
	default:
		s.warn("unable to ", e.Op, " ", s.opt.Dir, "/", e.File, ": ", e.Err)
	}
}

func (s *Supervisor) warn(parts ...any) { strerr.Warn(s.opt.Stderr, "supervise", parts...) }
