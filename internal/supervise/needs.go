package supervise

// needs/ (doc/extensions.md, "Dependencies"): ./run starts only once every
// service its entries name, siblings in the scan directory, is up and,
// where it has readiness, ready (a one-shot task: done). While some are
// not, the service waits (the state waiting), and learns of every change
// through inotify: on the scan directory (a needed service appears), on
// needs/ (an entry goes), and on each needed service's directory and
// supervise/ (its supervise begins, its record is renamed into place), so
// that it starts the moment the last one is ready; it also looks again
// every needsRecheck.

import (
	"errors"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/needs"
	"daemontools/internal/status"
	"daemontools/internal/watch"
)

// needsLook is how long a waiting service waits before it looks at its
// needed services again when inotify cannot be had (too many instances).
const needsLook = time.Second

// needsRecheck is how long it waits before it looks again when inotify
// watches: a change that escapes the watches (a needed service up for
// good and its dependent still waiting was seen twice in loaded test
// runs, cause not found) delays the start by this much, never for ever.
const needsRecheck = 5 * time.Second

// needWatch is the inotify instance of a waiting service; fd is -1 when
// there is none.
type needWatch struct{ fd int }

const (
	// A needed service, or supervise/ in one, appears.
	appearMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_ONLYDIR
	// An entry of needs/ comes or goes, or needs/ itself.
	needsMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	// A needed service's supervise renames its record over the old one
	// (or makes its ok FIFO).
	recordMask = unix.IN_MOVED_TO | unix.IN_CREATE | unix.IN_ONLYDIR
)

// watch watches what tells of a change to the needs of the service in
// dir (needs/) and to the services named, in scandir; false when inotify
// cannot be had. A path not there yet is seen to appear through its
// parent's watch.
func (w *needWatch) watch(dir, scandir string, names []string) bool {
	if w.fd < 0 {
		fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
		if err != nil {
			return false
		}
		w.fd = fd
	}
	unix.InotifyAddWatch(w.fd, scandir, appearMask)
	unix.InotifyAddWatch(w.fd, dir+"/"+needs.Dir, needsMask)
	for _, name := range names {
		unix.InotifyAddWatch(w.fd, scandir+"/"+name, appearMask)
		unix.InotifyAddWatch(w.fd, scandir+"/"+name+"/supervise", recordMask)
	}
	return true
}

// heard reads what the watches saw, and tells whether they saw anything.
func (w *needWatch) heard() bool {
	if w.fd < 0 {
		return false
	}
	var buf [4096]byte
	heard := false
	for {
		n, err := unix.Read(w.fd, buf[:])
		if n <= 0 || err != nil {
			return heard
		}
		heard = true
	}
}

// close ends the watches.
func (w *needWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// scanDirOf is the scan directory of the service directory dir (its
// parent, as an absolute path, resolved now: supervise chdirs later) and
// the service's name in it.
func scanDirOf(dir string) (scandir, name string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", ""
	}
	return filepath.Dir(abs), filepath.Base(abs)
}

// unmet is the needed services not yet up and ready (or done), and
// whether a change to them will be heard; none for a service on a cycle
// of needs, which starts as if it had none.
func (x *system) unmet() ([]string, bool) {
	names := needs.Of(x.dir, ".")
	if len(names) == 0 || x.scanDir == "" {
		return nil, true
	}
	scandir, err := unix.Open(x.scanDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return names, x.needs.watch(x.cwd, x.scanDir, names)
	}
	defer unix.Close(scandir)
	if needs.Cycle(scandir, x.name) != "" {
		return nil, true
	}
	var unmet []string
	for _, name := range names {
		if !neededReady(scandir, name) {
			unmet = append(unmet, name)
		}
	}
	if len(unmet) == 0 {
		return nil, true
	}
	return unmet, x.needs.watch(x.cwd, x.scanDir, unmet)
}

func (x *system) unwatchNeeds() { x.needs.close() }

// neededReady tells whether the service name in scandir is supervised
// (its supervise holds supervise/ok open), up and ready, or, a one-shot
// task, done.
func neededReady(scandir int, name string) bool {
	ok, err := unix.Openat(scandir, name+"/supervise/ok", unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	unix.Close(ok)
	r, err := status.ReadAllAt(scandir, name+"/"+status.File)
	var ext *status.ExtensionError
	if err != nil && !errors.Is(err, status.ErrNoExtension) && !errors.As(err, &ext) {
		return false
	}
	var st unix.Stat_t
	if unix.Fstatat(scandir, name+"/"+oneshotFile, &st, 0) == nil {
		return r.Done
	}
	return watch.UpReady.Holds(r)
}
