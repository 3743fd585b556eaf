// Package scan is svscan's engine. It keeps one supervise running for every
// service directory in the current directory, and a second one for the
// service's log/ with a pipe between the two, as daemontools' svscan does.
// Beyond daemontools it picks a new directory up the moment it appears
// (inotify, with the five-second scan kept as the safety net) and stops the
// service of a directory that goes away.
package scan

import (
	"errors"
	"io"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/pathexec"
	"daemontools/internal/quiet"
	"daemontools/internal/strerr"
)

const (
	// Interval is the time between two scans, as in daemontools.
	Interval = 5 * time.Second
	// IntervalEnv names the test-only knob that replaces Interval between
	// periodic scans (a Go duration), so that a test can tell a scan on
	// SIGHUP or on a change from a periodic one whatever the load.
	IntervalEnv = "SVSCAN_TEST_INTERVAL"
	// MaxServices is daemontools' limit on the number of services.
	MaxServices = 1000
)

// Scanner holds what svscan knows about the services it started. It is not
// safe for concurrent use: Run drives it from one goroutine.
type Scanner struct {
	stderr   io.Writer
	env      []string // for every supervise
	dir      int      // the scanned directory, open for good once opened: scans need no new descriptor
	dirBuf   []byte   // for reading it
	services map[fileID]*service
	byPid    map[int]*service

	dropped  bool // a service left since the last scan: its name may be back
	changes  int  // inotify, of the directory and of tied services' supervise/; -1 without
	dirWatch int  // the directory's watch in changes
	phase    phase
	exit     int // svscan's exit code once stopped
}

// fileID is how daemontools tells entries apart: device and inode, so that a
// renamed service keeps its supervise and a replaced one gets a new one.
type fileID struct{ dev, ino uint64 }

type service struct {
	name   string // as last seen in the directory
	id     fileID
	logID  fileID // of log/, when hasLog
	hasLog bool
	tied   bool // has a TiedFile
	// statusWatch is the inotify watch of a tied service's supervise/,
	// once watched; 0 before (watches are numbered from 1).
	statusWatch int
	Pair        // the pipe between NAME and NAME/log, and the stop
	main        supervisor
	log         supervisor
	seen        bool // found by the scan under way
	// leaving is set once the directory has gone: the service is being
	// stopped and is never started again under this entry.
	leaving bool
}

// supervisor is a supervise process svscan started; pid 0 when none runs.
type supervisor struct {
	pid int
}

// New returns a Scanner that writes warnings to stderr and starts every
// supervise with env. Every supervise inherits what svscan has open without
// close-on-exec (inherit.OnlyStdio is the caller's).
func New(stderr io.Writer, env []string) *Scanner {
	return &Scanner{
		stderr:   stderr,
		env:      env,
		dir:      -1,
		changes:  -1,
		services: make(map[fileID]*service),
		byPid:    make(map[int]*service),
	}
}

func (s *Scanner) warn(parts ...any) { strerr.Warn(s.stderr, "svscan", parts...) }

// Scan reads the current directory once: it starts what is new and stops
// what has disappeared. A full scan (the periodic one, or on SIGHUP) also
// starts again every supervise that has exited, as daemontools' scan does;
// the scans that follow changes in the directory leave those to it, so that
// a busy directory cannot turn a failing supervise into a fork loop.
func (s *Scanner) Scan(full bool) {
	s.Reap()
	s.dropped = false
	for _, sv := range s.services {
		sv.seen = false
	}
	if err := s.readNames(func(name []byte) { s.start(name, full) }); err != nil {
		// Half a listing cannot tell what has gone.
		s.warn("unable to read directory: ", err)
		return
	}
	for _, sv := range s.services {
		if !sv.seen {
			sv.leaving = true
		}
		if sv.leaving {
			s.retire(sv)
		} else {
			s.watchTied(sv)
		}
	}
}

// readNames calls f with every name in the scanned directory, read
// through the descriptor svscan keeps on it, so that a scan works however
// short of descriptors svscan is.
func (s *Scanner) readNames(f func(name []byte)) error {
	if s.dir < 0 {
		fd, err := unix.Open(".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		s.dir = fd
		s.dirBuf = make([]byte, 8192)
	}
	return quiet.Entries(s.dir, s.dirBuf, f)
}

// start makes sure the entry name, if it is a service directory, has its
// supervise processes running; if it is not new, only in a full scan. A
// scan that finds nothing new allocates nothing, so that an idle svscan
// never needs the garbage collector.
func (s *Scanner) start(name []byte, full bool) {
	if name[0] == '.' {
		return
	}
	st, err := quiet.StatName(name)
	if err != nil {
		s.warn("unable to stat ", string(name), ": ", err)
		if !gone(err) {
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
		full = true // a new service starts at once
	}
	sv.seen = true
	if sv.leaving {
		return // still stopping: a new entry takes the name once this one is gone
	}
	if sv.name != string(name) {
		sv.name = string(name) // renamed
	}
	if !full {
		return
	}
	if sv.main.pid == 0 {
		s.spawn(sv, false)
	}
	if sv.hasLog && sv.log.pid == 0 {
		s.spawn(sv, true)
	}
}

// gone tells whether a failed stat means the entry no longer exists; any
// other failure (EACCES, EIO, ESTALE, ELOOP, ENOMEM...) may pass, and a
// service must not be stopped for it.
func gone(err error) bool { return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) }

// keep counts the services last seen as name as still there: a scan that
// could not look at the entry cannot tell that it has gone.
func (s *Scanner) keep(name string) {
	for _, sv := range s.services {
		if sv.name == name {
			sv.seen = true
		}
	}
}

// add records a new service directory and, when there is a log/, makes the
// pipe that lives as long as the entry: the only descriptors svscan holds
// for a service, as in daemontools.
func (s *Scanner) add(name string, id fileID) *service {
	if len(s.services) >= MaxServices {
		s.warn("unable to start ", name, ": running too many services")
		return nil
	}
	sv := &service{name: name, id: id, Pair: Pair{Pipe: [2]int{-1, -1}}, tied: IsTied(name)}
	if st, err := quiet.Stat(name + "/log"); err == nil {
		sv.hasLog = st.IsDir()
		sv.logID = fileID{st.Dev, st.Ino}
	} else if !errors.Is(err, unix.ENOENT) {
		s.warn("unable to stat ", name, "/log: ", err)
		return nil
	}
	if sv.hasLog {
		if err := unix.Pipe2(sv.Pipe[:], unix.O_CLOEXEC); err != nil {
			s.warn("unable to create pipe for ", name, ": ", err)
			return nil
		}
	}
	s.services[id] = sv
	return sv
}

// spawn starts the supervise of the service or of its logger.
func (s *Scanner) spawn(sv *service, log bool) {
	sup, what, files := &sv.main, sv.name, [3]int{0, 1, 2}
	if log {
		sup, what, files[0] = &sv.log, what+"/log", sv.Pipe[0]
	} else if sv.hasLog {
		files[1] = sv.Pipe[1]
	}
	var err error
	if sup.pid, err = Spawn(s.env, sv.name, log, files); err != nil {
		sup.pid = 0
		s.warn("unable to start supervise ", what, ": ", err)
		return
	}
	s.byPid[sup.pid] = sv
}

// Spawn starts `supervise NAME`, or `supervise log` inside NAME for the
// logger, with env and with files as its descriptors 0, 1 and 2 (the pipe
// on the service's stdout or the logger's stdin), and returns its pid.
// The child gets those three and nothing else: everything svscan opens is
// close-on-exec.
func Spawn(env []string, name string, log bool, files [3]int) (int, error) {
	argv := []string{"supervise", name}
	attr := &syscall.ProcAttr{Env: env, Files: []uintptr{uintptr(files[0]), uintptr(files[1]), uintptr(files[2])}}
	if log {
		argv[1] = "log"
		attr.Dir = name
	}
	// Found as daemontools finds it, in $PATH; for the logger a relative
	// element of $PATH is taken inside NAME.
	pid := 0
	err := pathexec.Find("supervise", func(path string) error {
		var err error
		pid, err = syscall.ForkExec(path, argv, attr)
		return err
	})
	return pid, err
}

// Reap collects every supervise that has exited, so that the next scan
// starts it again, and moves leaving services on.
func (s *Scanner) Reap() {
	for {
		pid, ws, err := quiet.Reap()
		if err != nil || pid <= 0 {
			return
		}
		sv := s.byPid[pid]
		if sv == nil {
			continue // not a supervise (svscanboot makes readproctitle our child)
		}
		delete(s.byPid, pid)
		if sv.main.pid == pid {
			sv.main.pid = 0
			if sv.tied && !sv.leaving && ws.Exited() && ws.ExitStatus() == 0 {
				s.checkTied(sv) // told to exit: svc -x
			}
		} else {
			sv.log.pid = 0
		}
		if sv.leaving {
			s.retire(sv)
		}
	}
}
