// Package fghack is the program fghack, which runs a program that insists on
// putting itself in the background, and waits until it and everything it
// started are done. The child gets 31 copies of a pipe's write end, as with
// daemontools; fghack reads the pipe until every copy is closed, then waits
// for the child and exits with its code.
package fghack

import (
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, _ io.Writer) error {
	if len(args) < 2 {
		return strerr.Usage("fghack child")
	}
	r, w, err := os.Pipe()
	if err != nil {
		return strerr.Fatal("unable to create pipe: ", err)
	}
	// The copies take the lowest descriptors from 3 that the child would
	// not inherit anyway, as dup(2) gives them in daemontools: descriptors
	// fghack inherited keep their numbers.
	files := []uintptr{0, 1, 2}
	for fd, copies := 3, 0; copies < 31; fd++ {
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			files = append(files, uintptr(fd))
		} else {
			files = append(files, w.Fd())
			copies++
		}
	}
	env := os.Environ()
	var pid int
	err = pathexec.Search(args[1], func(path string) error {
		var err error
		pid, err = syscall.ForkExec(path, args[1:], &syscall.ProcAttr{Env: env, Files: files})
		return err
	})
	w.Close()
	if err != nil {
		return err
	}
	buf := make([]byte, 512)
	for {
		if _, err := r.Read(buf); err != nil {
			break
		}
	}
	var status syscall.WaitStatus
	for {
		_, err = syscall.Wait4(pid, &status, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return strerr.Fatal("wait failed: ", err)
	}
	if status.Signaled() {
		return strerr.Fatal("child crashed")
	}
	return strerr.Exit(status.ExitStatus())
}
