// Package scan is svscan's engine, in both of its modes. It keeps a
// supervisor for every service directory in the scanned directory, and a
// second one for the service's log/ with a pipe between the two, as
// daemontools' svscan does; beyond daemontools it picks a new directory up
// the moment it appears (fsnotify, with the five-second scan kept as the
// safety net) and stops the service of a directory that goes away.
//
// A supervisor fills a slot, of one of two kinds: a supervise process
// (plain svscan; under svscan -1 a service with a pidfile file), or a
// supervisor inside this process (svscan -1; internal/supervise), which
// the same event loop drives. Everything else (the scan, the look at each
// entry, the stop, tied services, reaping, hand-off and adoption) is the
// same for both. The supervise program is that loop over one slot
// (Supervise).
package scan

import (
	"errors"
	"io"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/sigevent"
	"daemontools/internal/strerr"
	"daemontools/internal/supervise"
)

const (
	// Interval is the time between two scans, as in daemontools.
	Interval = 5 * time.Second
	// IntervalEnv names the test-only setting that replaces Interval
	// between periodic scans (a Go duration), so that a test can tell a
	// scan on SIGHUP or on a change from a periodic one whatever the
	// load. internal/command reads it.
	IntervalEnv = "SVSCAN_TEST_INTERVAL"
	// MaxServices is daemontools' limit on the number of services.
	MaxServices = 1000
)

// Options say how a Scanner supervises.
type Options struct {
	Stderr   io.Writer     // warnings
	Env      []string      // for every supervisor and service
	Interval time.Duration // between periodic scans; 0 for Interval
	// InProcess supervises services inside this process (svscan -1),
	// but for those with a pidfile file (ownProcess).
	InProcess bool
	// Supervise is the supervise program to start: under InProcess, our
	// own, so that it can adopt what this process started. Empty, it is
	// found in $PATH as daemontools' svscan finds it.
	Supervise string
	// Ready, if not nil, is called once the first scan has started every
	// service, with the number of services it found.
	Ready func(services int)
}

// Scanner holds what svscan knows about its services. It is not safe for
// concurrent use: Run drives it from one goroutine.
type Scanner struct {
	opt      Options
	dir      int    // the scanned directory, held open: every look goes through it
	dirBuf   []byte // its entries, read in place (rawsys.Entries)
	path     []byte // a path made for rawsys' calls, NUL-terminated
	services map[fileID]*service
	slots    map[int32]*slot // every slot, by its key in the poller
	lastKey  int32
	loop     *loop
	dropped  bool // a service left since the last scan: its name may be back
	single   bool // the supervise program: one slot, no scans
	phase    phase
	exit     int // svscan's exit code once stopped
	// added: a service appeared in the scan under way, so a cycle in
	// needs/ may have too; cyclesWarned, the cycles warned of, by their
	// members.
	added        bool
	cyclesWarned map[string]bool
	// stopAfter: in the orderly stop, the services that need each
	// service, which stop before it (dependents).
	stopAfter map[*service][]*service
}

// fileID is how daemontools tells entries apart: device and inode, so that a
// renamed service keeps its supervisor and a replaced one gets a new one.
type fileID struct{ dev, ino uint64 }

// service is a service directory: its slot, its logger's, and the pipe
// between them, which svscan holds for as long as the entry lives, with
// the stop of both once it leaves (pair).
type service struct {
	id   fileID
	name string // as last seen in the directory
	main *slot
	log  *slot // nil without log/
	pair
	tied bool // has a TiedFile
	// statusWatch is the watched supervise/ of a tied service, as it was
	// named when watched; empty when not watched.
	statusWatch string
	seen        bool // found by the scan under way
	// leaving is set once the directory has gone, or svscan stops: the
	// service is being stopped and is never started again under this entry.
	leaving bool
}

// New returns a Scanner of the current directory. The error is a failure
// to open it or to set up the waiting, before anything has started.
func New(opt Options) (*Scanner, error) {
	if opt.Interval <= 0 {
		opt.Interval = Interval
	}
	dir, err := unix.Open(".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, strerr.Fatal("unable to open .: ", err)
	}
	s := &Scanner{opt: opt, dir: dir, dirBuf: make([]byte, 8192),
		services: make(map[fileID]*service), slots: make(map[int32]*slot), lastKey: keySlots}
	if s.loop, err = newLoop(); err != nil {
		unix.Close(dir)
		return nil, strerr.Fatal("unable to wait for events: ", err)
	}
	return s, nil
}

func (s *Scanner) warn(parts ...any) { strerr.Warn(s.opt.Stderr, "svscan", parts...) }

// Scan reads the directory once: it starts supervising what is new and
// retires what has gone. A full scan (the periodic one, or on SIGHUP) also
// starts again every supervisor that has ended, as daemontools' scan
// starts a supervise again; the scans that follow changes in the directory
// leave those to it, so that a busy directory cannot turn a failing
// supervise into a fork loop. A scan that finds nothing new makes no
// system call but raw ones (rawsys) and allocates nothing, so that an idle svscan
// wakes neither the Go runtime nor its garbage collector.
func (s *Scanner) Scan(full bool, now time.Time) {
	s.reap(now)
	s.dropped = false
	for _, sv := range s.services {
		sv.seen = false
	}
	if err := rawsys.Entries(s.dir, s.dirBuf, func(name []byte) { s.look(name, full, now) }); err != nil {
		s.warn("unable to read directory: ", err)
		return // half a listing cannot tell what has gone
	}
	for _, sv := range s.services {
		if !sv.seen {
			sv.leaving = true
		}
		if !sv.leaving {
			s.watchTied(sv)
		}
	}
	if s.added {
		s.added = false
		s.warnCycles()
	}
}

// look makes sure the entry name, if it is a service directory, is
// supervised; if it is not new, only in a full scan.
func (s *Scanner) look(name []byte, full bool, now time.Time) {
	if name[0] == '.' {
		return
	}
	st, err := rawsys.StatName(s.dir, name)
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
		sv.name = string(name) // renamed: its slots follow
	}
	if !full {
		return
	}
	for _, u := range []*slot{sv.main, sv.log} {
		switch {
		case u == nil:
		case u.sup == nil && u.pid == 0:
			s.open(u, now)
		case u.sup != nil && !sv.tied && u.sup.Running() && s.ownProcess(u.dir()):
			s.handOff(u, now)
		}
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

// add records a new service directory and, when there is a log/ or a
// log-script, the pipe that lives as long as the entry: with the slots'
// own, the only descriptors svscan holds for a service.
func (s *Scanner) add(name string, id fileID) *service {
	if len(s.services) >= MaxServices {
		s.warn("unable to start ", name, ": running too many services")
		return nil
	}
	hasLog := false
	if st, err := rawsys.Stat(s.dir, name+"/log"); err == nil {
		hasLog = st.IsDir()
	} else if !errors.Is(err, unix.ENOENT) {
		s.warn("unable to stat ", name, "/log: ", err)
		return nil
	}
	var script []string
	if !hasLog {
		var err error
		if script, _, err = loggerArgs(s.dir, name); err != nil {
			s.warn("unable to read ", name, "/", LogScriptFile, ": ", err)
			return nil
		}
	}
	sv := &service{id: id, name: name, pair: pair{pipe: [2]int{-1, -1}}, tied: s.isTied(name)}
	stdout := 1
	if hasLog || script != nil {
		// Nor can a pipe take what is kept for starting services.
		if !s.haveSpare() {
			s.short(name, unix.EMFILE)
			return nil
		}
		// A logger made here is not adopted: one left by an earlier
		// svscan keeps the pipe of the ./run adopted, and this one
		// gets a new pipe, so that no pipe has two readers.
		pipe, ok := [2]int{-1, -1}, false
		if hasLog {
			pipe, ok = s.survivingPipe(name)
		}
		if !ok {
			if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
				s.warn("unable to create pipe for ", name, ": ", err)
				s.short(name, err)
				return nil
			}
		}
		sv.pipe, stdout = pipe, pipe[1]
		sv.log = s.newSlot(sv, true, [3]int{pipe[0], 1, 2})
		sv.log.script = script
	}
	sv.main = s.newSlot(sv, false, [3]int{0, stdout, 2})
	s.services[id] = sv
	s.added = true
	return sv
}

// drop forgets a service whose supervisors have both ended.
func (s *Scanner) drop(sv *service) {
	sv.close()
	s.unwatchTied(sv)
	delete(s.slots, sv.main.key)
	if sv.log != nil {
		delete(s.slots, sv.log.key)
	}
	delete(s.services, sv.id)
	s.dropped = true
}

// Supervise is the supervise program: the loop of svscan -1 over one slot,
// filled with sup, which Open has just returned. signals carries SIGTERM,
// which stops the service and ends the loop as svc -dx does, and SIGCHLD.
// It returns once the supervisor is done, and closed.
func Supervise(sup *supervise.Supervisor, stderr io.Writer, signals *sigevent.Events) error {
	s := &Scanner{opt: Options{Stderr: stderr, InProcess: true}, single: true,
		dir: -1, services: make(map[fileID]*service), slots: make(map[int32]*slot), lastKey: keySlots}
	var err error
	if s.loop, err = newLoop(); err != nil {
		sup.Close()
		return strerr.Fatal("unable to wait for events: ", err)
	}
	defer s.loop.close()
	sv := &service{pair: pair{pipe: [2]int{-1, -1}}}
	sv.main = s.newSlot(sv, false, [3]int{0, 1, 2})
	s.services[sv.id] = sv
	s.begin(sv.main, sup, time.Now())
	s.run(signals)
	return nil
}
