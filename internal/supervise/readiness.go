package supervise

import (
	"errors"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/notifyfd"
	"daemontools/internal/procstart"
	"daemontools/internal/sdnotify"
	"daemontools/internal/tai64"
)

// The readiness files of a service directory (doc/extensions.md).
const (
	notifySocketFile    = "notify-socket"
	timeoutWatchdogFile = "timeout-watchdog"
)

// readiness is how the run of the latest start says it is ready: through
// a notification-fd pipe, the notify socket, both, or neither. Only ./run
// gets either; ./finish gets neither.
type readiness struct {
	has     bool        // the latest start has a way to say it
	since   tai64.Label // when it said it is ready; zero while not
	text    string      // its latest STATUS=, kept after it exits until the next start
	pipe    notifyfd.Pipe
	fd      int              // where ./run gets the pipe's write end; -1 for none
	socket  *sdnotify.Socket // made at the first start with notify-socket, kept until Close
	sockets bool             // the latest start has notify-socket

	// stranger is the latest sender found not to be ./run's, until
	// strangerUntil: a flood from one process costs one look at /proc a
	// second. (A process never becomes ./run's descendant later, but its
	// pid may be reused once it has gone.)
	stranger      int
	strangerUntil time.Time

	watchdog     time.Duration // timeout-watchdog of the latest start; 0 for none
	watchdogStop bool          // the watchdog stopped the latest run
	watchdogExit bool          // and the last exit was that stop's

}

// maxDatagrams is how many datagrams one Step reads, so that a flood
// cannot keep the supervisor from its control FIFO and children.
const maxDatagrams = 64

func newReadiness() readiness {
	return readiness{pipe: notifyfd.Pipe{Read: -1, Write: -1}, fd: -1}
}

// prepare readies the start about to be made: it reads notification-fd,
// notify-socket and timeout-watchdog, makes the pipe and the socket, and
// returns what to execute, the descriptors and the environment ./run gets,
// and how it can say it is ready.
func (s *system) prepare() (argv []string, files []uintptr, env []string, how startReadiness) {
	r := &s.ready
	r.close()
	env = s.opt.Env
	files = s.stdio()
	if v, ok := s.setting(notifyfd.File); ok {
		var lim unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		fd, err := notifyfd.Parse([]byte(v), int(min(lim.Cur, 1<<20)))
		if err == nil {
			r.pipe, err = notifyfd.NewPipe()
		}
		var bad *notifyfd.ParseError
		switch {
		case errors.As(err, &bad):
			s.warn(s.opt.Dir, "/", notifyfd.File, ": ", bad.Why, ": ignored")
		case err != nil:
			s.warn("unable to make the pipe of ", s.opt.Dir, "/", notifyfd.File, ": ", err, ": ignored")
		default:
			r.fd, how.has = fd, true
			for len(files) < fd {
				files = append(files, ^uintptr(0)) // closed in ./run
			}
			files = append(files, uintptr(r.pipe.Write))
		}
	}
	if _, ok := s.setting(notifySocketFile); ok {
		if r.socket == nil {
			sock, err := sdnotify.Listen()
			if err != nil {
				s.warn("unable to create the notify socket of ", s.opt.Dir, ": ", err, ": ignored")
			}
			r.socket = sock
		}
		if r.socket != nil {
			how.has, how.sockets = true, true
			env = append(env[:len(env):len(env)], "NOTIFY_SOCKET="+r.socket.Name())
		}
	}
	if how.sockets {
		if how.watchdog = (*Supervisor)(s).millis(timeoutWatchdogFile, 0, "ignored"); how.watchdog > 0 {
			env = append(env[:len(env):len(env)], "WATCHDOG_USEC="+strconv.FormatInt(how.watchdog.Microseconds(), 10))
		}
	}
	argv = []string{"./run"}
	if how.watchdog > 0 {
		argv = s.withWatchdogPid(env)
	}
	return argv, files, env, how
}

// started follows a start: ./run has its end of the pipe.
func (r *readiness) started() {
	r.pipe.CloseWrite()
}

// exited follows an exit of ./run: it is no longer ready, and its pipe
// is of no more use.
func (r *readiness) exited() {
	r.since = tai64.Label{}
	r.watchdogExit, r.watchdogStop = r.watchdogStop, false
	r.close()
}

func (r *readiness) close() {
	r.pipe.Close()
	r.fd = -1
}

// closeSocket closes the notify socket: its name is gone.
func (r *readiness) closeSocket() {
	r.close()
	if r.socket != nil {
		r.socket.Close()
		r.socket = nil
	}
}

// pollFds are the descriptors to wake on: the pipe and the socket, -1
// when there are none.
func (r *readiness) pollFds() (pipe, socket int) {
	pipe, socket = r.pipe.Read, -1
	if r.socket != nil {
		socket = r.socket.Fd()
	}
	return pipe, socket
}

// hear reads what ./run has said since the last Step, handles it, and
// writes the record once for all of it.
func (s *Supervisor) hear(now time.Time) {
	r := &s.ready
	if r.pipe.Read >= 0 && r.pipe.Scan() == notifyfd.Ready && r.since == (tai64.Label{}) {
		s.handle(now, input{ev: evReady})
	}
	for range maxDatagrams {
		if r.socket == nil {
			break
		}
		d, err := r.socket.Receive()
		if err != nil {
			break // EAGAIN: all read
		}
		s.heard(now, d)
	}
	s.flush()
}

// heard turns one datagram into events, if it comes from ./run or one of
// its descendants while the start it belongs to has notify-socket.
func (s *Supervisor) heard(now time.Time, d sdnotify.Datagram) {
	r := &s.ready
	who := "pid " + strconv.Itoa(d.Pid)
	switch {
	case !r.sockets || !s.state.hears():
		s.warnings.Warn(s.opt.Stderr, "supervise", now, "late", s.opt.Dir, "/", notifySocketFile, ": datagram from ", who, " while ./run is not running: ignored")
		return
	case d.Pid == r.stranger && now.Before(r.strangerUntil) || !s.sentByService(d.Pid):
		r.stranger, r.strangerUntil = d.Pid, now.Add(time.Second)
		s.warnings.Warn(s.opt.Stderr, "supervise", now, "stranger", s.opt.Dir, "/", notifySocketFile, ": datagram from ", who, ", not a process of ./run: ignored")
		return
	case d.Size > len(d.Text):
		s.warnings.Warn(s.opt.Stderr, "supervise", now, "long", s.opt.Dir, "/", notifySocketFile, ": datagram of ", d.Size, " bytes from ", who, ", more than ", sdnotify.MaxSize, ": ignored")
		return
	}
	m, err := sdnotify.Parse(d.Text)
	if err != nil {
		s.warnings.Warn(s.opt.Stderr, "supervise", now, "malformed", s.opt.Dir, "/", notifySocketFile, ": datagram from ", who, ": ", err.Error(), ": line ignored")
	}
	if m.MainPid != 0 && m.MainPid != s.child.pid {
		s.handle(now, input{ev: evMainPid, pid: m.MainPid, who: who})
	}
	if m.HasStatus && m.Status != r.text {
		s.handle(now, input{ev: evStatusText, text: m.Status})
	}
	if m.Events&(sdnotify.EventReloading|sdnotify.EventStopping) != 0 && r.since != (tai64.Label{}) {
		s.handle(now, input{ev: evNotReady})
	}
	if m.Events&sdnotify.EventReady != 0 && r.since == (tai64.Label{}) {
		s.handle(now, input{ev: evReady})
	}
	switch {
	case m.Events&sdnotify.EventWatchdogTrigger != 0:
		s.handle(now, input{ev: evWatchdogTrigger})
	case m.Events&sdnotify.EventWatchdog != 0:
		s.handle(now, input{ev: evWatchdogPing})
	}
}

// sentByService tells whether pid, a sender, is one of the service's
// processes: ./run or the daemon and their descendants, and orphans as
// takesOrphans says.
func (s *Supervisor) sentByService(pid int) bool {
	p, err := procstart.ReadStat(pid)
	return err == nil && (*system)(s).descends(p, s.takesOrphans())
}

// takesOrphans tells whether a process that came back to this process as
// an orphan may be one of ./run's (descends' toSelf): when it supervises
// this service alone, or while the daemon a pidfile names is looked for
// (pidfile.go). Inside svscan -1 the orphans of every service come back
// to the one process, so MAINPID= or a sender naming one is not trusted.
func (s *Supervisor) takesOrphans() bool {
	return s.opt.Alone || s.state == awaitingDaemon
}
