// Package boot is svscanboot: what init runs to start supervision. It stops
// what a previous boot left running, then becomes svscan with its messages
// shown in the command line of a readproctitle, as daemontools does.
package boot

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Path is daemontools' svscanboot search path. Run puts the directory of
// its own executable first, so the programs installed beside it are used.
const Path = "/command:/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/X11R6/bin"

// titleArgs is readproctitle's command line: its last 400 bytes show the
// latest of svscan's messages.
func titleArgs() []string {
	return []string{"readproctitle", "service", "errors:", strings.Repeat(".", 400)}
}

// Run runs `svc -dx DIR/* DIR/*/log` to clear leftovers, starts
// readproctitle reading a pipe, and replaces the process with `svscan DIR`
// writing its stdout and stderr into that pipe. Every program gets an
// environment of PATH alone, and is found in that PATH; svscan also gets
// NOTIFY_SOCKET=notifySocket, unless that is "", so that it can tell
// systemd when it is ready. Run returns only on failure.
func Run(dir, notifySocket string) error {
	// svscan's complaint about a dir it cannot enter would go to
	// readproctitle, where nobody reads it: say it here.
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return strerr.Fatal("unable to open ", dir, ": ", err)
	}
	unix.Close(fd)
	path := Path
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			path = filepath.Dir(self) + ":" + path
		}
	}
	env := []string{"PATH=" + path}
	svscanEnv := env
	if notifySocket != "" {
		svscanEnv = append(svscanEnv, "NOTIFY_SOCKET="+notifySocket)
	}

	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return strerr.Fatal("unable to open ", os.DevNull, ": ", err)
	}
	clearLeftovers(dir, path, env, devNull)

	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return strerr.Fatal("unable to create pipe: ", err)
	}
	_, err = start(titleArgs(), path, env, []uintptr{uintptr(pipe[0]), devNull.Fd(), devNull.Fd()})
	if err != nil {
		return strerr.Fatal("unable to start readproctitle: ", err)
	}
	for fd, from := range []int{int(devNull.Fd()), pipe[1], pipe[1]} {
		if err := unix.Dup2(from, fd); err != nil {
			return strerr.Fatal("unable to set up descriptors: ", err)
		}
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0) // dup2 onto itself keeps close-on-exec
	}
	unix.Close(pipe[0])
	argv := []string{"svscan", dir}
	err = pathexec.FindIn(path, argv[0], func(path string) error { return syscall.Exec(path, argv, svscanEnv) })
	return strerr.Fatal("unable to start svscan: ", err)
}

// start starts argv[0], found in search as daemontools finds it, with env
// and files as descriptors 0, 1 and 2.
func start(argv []string, search string, env []string, files []uintptr) (pid int, err error) {
	err = pathexec.FindIn(search, argv[0], func(path string) error {
		pid, err = syscall.ForkExec(path, argv, &syscall.ProcAttr{Env: env, Files: files})
		return err
	})
	return pid, err
}

// clearLeftovers runs svc -dx on every service and log, as the shell would
// expand DIR/* DIR/*/log (names starting with a dot left out, as svscan
// leaves them), and waits for it. Its complaints go nowhere, as in
// daemontools: a leftover that is not there is what boot expects.
func clearLeftovers(dir, search string, env []string, devNull *os.File) {
	argv := []string{"svc", "-dx"}
	services, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, s := range services {
		if !strings.HasPrefix(filepath.Base(s), ".") {
			argv = append(argv, s)
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*", "log"))
	for _, l := range logs {
		if !strings.HasPrefix(filepath.Base(filepath.Dir(l)), ".") {
			argv = append(argv, l)
		}
	}
	if len(argv) == 2 {
		return
	}
	null := devNull.Fd()
	if pid, err := start(argv, search, env, []uintptr{null, null, null}); err == nil {
		for {
			if _, err := syscall.Wait4(pid, nil, 0, nil); err != syscall.EINTR {
				return
			}
		}
	}
}
