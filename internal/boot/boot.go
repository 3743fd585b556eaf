// Package boot is svscanboot: what init runs to start supervision. It stops
// what a previous boot left running, then becomes svscan with its messages
// shown in the command line of a readproctitle, as daemontools does.
package boot

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
)

// Path is daemontools' svscanboot search path. Run puts the directory of
// its own executable first, so the programs installed beside it are used.
const Path = "/command:/usr/local/bin:/usr/local/sbin:/bin:/sbin:/usr/bin:/usr/sbin:/usr/X11R6/bin"

// titleArgs is readproctitle's command line: its last 400 bytes show the
// latest of svscan's messages.
var titleArgs = []string{"readproctitle", "service", "errors:", strings.Repeat(".", 400)}

// Run runs `svc -dx DIR/* DIR/*/log` to clear leftovers, starts
// readproctitle reading a pipe, and replaces the process with `svscan DIR`
// writing its stdout and stderr into that pipe. Every program gets an
// environment of PATH alone; svscan also gets $NOTIFY_SOCKET, so that it can
// tell systemd when it is ready. Run returns only on failure.
func Run(dir string) error {
	path := Path
	if self, err := os.Executable(); err == nil {
		if self, err = filepath.EvalSymlinks(self); err == nil {
			path = filepath.Dir(self) + ":" + path
		}
	}
	env := []string{"PATH=" + path}
	svscanEnv := env
	if socket, ok := os.LookupEnv("NOTIFY_SOCKET"); ok {
		svscanEnv = append(svscanEnv, "NOTIFY_SOCKET="+socket)
	}
	os.Setenv("PATH", path) // for the lookups below

	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return strerr.Fatal("unable to open ", os.DevNull, ": ", err)
	}
	clearLeftovers(dir, env, devNull)

	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		return strerr.Fatal("unable to create pipe: ", err)
	}
	readproctitle, err := exec.LookPath("readproctitle")
	if err == nil {
		_, err = syscall.ForkExec(readproctitle, titleArgs, &syscall.ProcAttr{
			Env:   env,
			Files: []uintptr{uintptr(pipe[0]), devNull.Fd(), devNull.Fd()},
		})
	}
	if err != nil {
		return strerr.Fatal("unable to start readproctitle: ", lookupReason(err))
	}
	svscan, err := exec.LookPath("svscan")
	if err != nil {
		return strerr.Fatal("unable to start svscan: ", lookupReason(err))
	}
	for fd, from := range []int{int(devNull.Fd()), pipe[1], pipe[1]} {
		if err := unix.Dup2(from, fd); err != nil {
			return strerr.Fatal("unable to set up descriptors: ", err)
		}
		unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0) // dup2 onto itself keeps close-on-exec
	}
	unix.Close(pipe[0])
	err = syscall.Exec(svscan, []string{"svscan", dir}, svscanEnv)
	return strerr.Fatal("unable to start svscan: ", err)
}

// clearLeftovers runs svc -dx on every service and log, as the shell would
// expand DIR/* DIR/*/log, and waits for it. Its complaints go nowhere, as in
// daemontools: a leftover that is not there is what boot expects.
func clearLeftovers(dir string, env []string, devNull *os.File) {
	services, _ := filepath.Glob(filepath.Join(dir, "*"))
	logs, _ := filepath.Glob(filepath.Join(dir, "*", "log"))
	if len(services)+len(logs) == 0 {
		return
	}
	cmd := exec.Command("svc", append(append([]string{"-dx"}, services...), logs...)...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devNull, devNull, devNull
	cmd.Run()
}

// lookupReason turns "executable file not found" into daemontools' ENOENT.
func lookupReason(err error) error {
	var notFound *exec.Error
	if errors.As(err, &notFound) {
		return unix.ENOENT
	}
	return err
}
