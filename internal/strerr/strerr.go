// Package strerr produces daemontools' error text: errno in daemontools'
// wording (never Go's), and the "PROG: fatal: ...", "PROG: warning: ..." and
// "PROG: usage: ..." lines with their exit codes. Every program reports
// through it, so the wording lives in one place.
package strerr

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/help"
)

// Exit codes shared by every program.
const (
	ExitUsage = 100 // bad option or missing argument
	ExitFatal = 111 // system or temporary failure
)

// Error is a failure to report to the user and the exit code that goes with
// it. Kind is "fatal", "usage" or "" for a silent exit. Err is its cause,
// if any: errors.Is(err, unix.EMFILE) looks through it.
type Error struct {
	Code int
	Kind string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	if e.Kind == "" {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Kind + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Fatal returns an exit-111 error whose message is parts joined (see
// Join), caused by the last error among parts.
func Fatal(parts ...any) *Error {
	e := &Error{Code: ExitFatal, Kind: "fatal", Msg: Join(parts...)}
	for _, p := range parts {
		if err, ok := p.(error); ok {
			e.Err = err
		}
	}
	return e
}

// Usage returns an exit-100 error showing the synopsis, e.g.
// Usage("svc [-udopchaitkx] dir").
func Usage(synopsis string) *Error {
	return &Error{Code: ExitUsage, Kind: "usage", Msg: synopsis}
}

// Exit returns an error that ends the program with code and prints nothing.
func Exit(code int) *Error { return &Error{Code: code} }

// Warn writes "prog: warning: parts" to w.
func Warn(w io.Writer, prog string, parts ...any) {
	io.WriteString(w, prog+": warning: "+Join(parts...)+"\n")
}

// Join concatenates parts: strings as they are, errors as Reason gives them,
// anything else as fmt's %v.
func Join(parts ...any) string {
	var b strings.Builder
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case error:
			b.WriteString(Reason(v))
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// Report prints err (if it says anything) as "prog: kind: msg" on w and
// returns the exit code for it: 0 for nil, the Error's code, or 111 for any
// other error.
func Report(w io.Writer, prog string, err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if !errors.As(err, &e) {
		e = Fatal(err)
	}
	if e.Kind != "" {
		io.WriteString(w, prog+": "+e.Kind+": "+e.Msg+"\n")
	}
	return e.Code
}

// Main runs a program the way every cmd/*/main.go does: run gets the
// arguments (including the program name) and the standard streams, and its
// error becomes the message and exit code. `PROG --help` prints the
// program's help on stdout and exits 0 instead; no script written for
// daemontools passes it.
func Main(prog string, run func(args []string, stdin io.Reader, stdout, stderr io.Writer) error) {
	if len(os.Args) > 1 && os.Args[1] == "--help" {
		if text, ok := help.Text(prog); ok {
			if _, err := io.WriteString(os.Stdout, text); err != nil {
				os.Exit(Report(os.Stderr, prog, Fatal("unable to write output: ", err)))
			}
			os.Exit(0)
		}
	}
	os.Exit(Report(os.Stderr, prog, run(os.Args, os.Stdin, os.Stdout, os.Stderr)))
}

// Text is an error of this project's own that no errno describes, such as
// a write cut short; Reason gives its words as they are.
type Text string

func (t Text) Error() string { return string(t) }

// Reason gives daemontools' wording for the errno inside err, the words of
// a Text, or "unknown error" when there is neither.
func Reason(err error) string {
	var text Text
	if errors.As(err, &text) {
		return string(text)
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return "unknown error"
	}
	if s := reason(errno); s != "" {
		return s
	}
	return "unknown error"
}

// reason words errno as daemontools does, "" for an errno it has no words
// for. A switch, not a map: nothing to build when a program starts.
func reason(errno syscall.Errno) string {
	switch errno {
	case unix.EINTR:
		return "interrupted system call"
	case unix.ENOMEM:
		return "out of memory"
	case unix.ENOENT:
		return "file does not exist"
	case unix.ETXTBSY:
		return "text busy"
	case unix.EIO:
		return "input/output error"
	case unix.EEXIST:
		return "file already exists"
	case unix.ETIMEDOUT:
		return "timed out"
	case unix.EINPROGRESS:
		return "operation in progress"
	case unix.EAGAIN:
		return "temporary failure"
	case unix.EPIPE:
		return "broken pipe"
	case unix.EPERM:
		return "permission denied"
	case unix.EACCES:
		return "access denied"
	case unix.ENXIO:
		return "device not configured"
	case unix.ESRCH:
		return "no such process"
	case unix.E2BIG:
		return "argument list too long"
	case unix.ENOEXEC:
		return "exec format error"
	case unix.EBADF:
		return "file descriptor not open"
	case unix.ECHILD:
		return "no child processes"
	case unix.EDEADLK:
		return "operation would cause deadlock"
	case unix.EFAULT:
		return "bad address"
	case unix.ENOTBLK:
		return "not a block device"
	case unix.EBUSY:
		return "device busy"
	case unix.EXDEV:
		return "cross-device link"
	case unix.ENODEV:
		return "device does not support operation"
	case unix.ENOTDIR:
		return "not a directory"
	case unix.EISDIR:
		return "is a directory"
	case unix.EINVAL:
		return "invalid argument"
	case unix.ENFILE:
		return "system cannot open more files"
	case unix.EMFILE:
		return "process cannot open more files"
	case unix.ENOTTY:
		return "not a tty"
	case unix.EFBIG:
		return "file too big"
	case unix.ENOSPC:
		return "out of disk space"
	case unix.ESPIPE:
		return "unseekable descriptor"
	case unix.EROFS:
		return "read-only file system"
	case unix.EMLINK:
		return "too many links"
	case unix.EDOM:
		return "input out of range"
	case unix.ERANGE:
		return "output out of range"
	case unix.EALREADY:
		return "operation already in progress"
	case unix.ENOTSOCK:
		return "not a socket"
	case unix.EDESTADDRREQ:
		return "destination address required"
	case unix.EMSGSIZE:
		return "message too long"
	case unix.EPROTOTYPE:
		return "incorrect protocol type"
	case unix.ENOPROTOOPT:
		return "protocol not available"
	case unix.EPROTONOSUPPORT:
		return "protocol not supported"
	case unix.ESOCKTNOSUPPORT:
		return "socket type not supported"
	case unix.EOPNOTSUPP:
		return "operation not supported"
	case unix.EPFNOSUPPORT:
		return "protocol family not supported"
	case unix.EAFNOSUPPORT:
		return "address family not supported"
	case unix.EADDRINUSE:
		return "address already used"
	case unix.EADDRNOTAVAIL:
		return "address not available"
	case unix.ENETDOWN:
		return "network down"
	case unix.ENETUNREACH:
		return "network unreachable"
	case unix.ENETRESET:
		return "network reset"
	case unix.ECONNABORTED:
		return "connection aborted"
	case unix.ECONNRESET:
		return "connection reset"
	case unix.ENOBUFS:
		return "out of buffer space"
	case unix.EISCONN:
		return "already connected"
	case unix.ENOTCONN:
		return "not connected"
	case unix.ESHUTDOWN:
		return "socket shut down"
	case unix.ETOOMANYREFS:
		return "too many references"
	case unix.ECONNREFUSED:
		return "connection refused"
	case unix.ELOOP:
		return "symbolic link loop"
	case unix.ENAMETOOLONG:
		return "file name too long"
	case unix.EHOSTDOWN:
		return "host down"
	case unix.EHOSTUNREACH:
		return "host unreachable"
	case unix.ENOTEMPTY:
		return "directory not empty"
	case unix.EUSERS:
		return "too many users"
	case unix.EDQUOT:
		return "disk quota exceeded"
	case unix.ESTALE:
		return "stale NFS file handle"
	case unix.EREMOTE:
		return "too many levels of remote in path"
	case unix.ENOLCK:
		return "no locks available"
	case unix.ENOSYS:
		return "system call not available"
	}
	return ""
}
