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
// it. Kind is "fatal", "usage" or "" for a silent exit.
type Error struct {
	Code int
	Kind string
	Msg  string
}

func (e *Error) Error() string {
	if e.Kind == "" {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Kind + ": " + e.Msg
}

// Fatal returns an exit-111 error whose message is parts joined; see Join.
func Fatal(parts ...any) *Error {
	return &Error{Code: ExitFatal, Kind: "fatal", Msg: Join(parts...)}
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
	if s, ok := reasons[errno]; ok {
		return s
	}
	return "unknown error"
}

var reasons = map[syscall.Errno]string{
	unix.EINTR:           "interrupted system call",
	unix.ENOMEM:          "out of memory",
	unix.ENOENT:          "file does not exist",
	unix.ETXTBSY:         "text busy",
	unix.EIO:             "input/output error",
	unix.EEXIST:          "file already exists",
	unix.ETIMEDOUT:       "timed out",
	unix.EINPROGRESS:     "operation in progress",
	unix.EAGAIN:          "temporary failure",
	unix.EPIPE:           "broken pipe",
	unix.EPERM:           "permission denied",
	unix.EACCES:          "access denied",
	unix.ENXIO:           "device not configured",
	unix.ESRCH:           "no such process",
	unix.E2BIG:           "argument list too long",
	unix.ENOEXEC:         "exec format error",
	unix.EBADF:           "file descriptor not open",
	unix.ECHILD:          "no child processes",
	unix.EDEADLK:         "operation would cause deadlock",
	unix.EFAULT:          "bad address",
	unix.ENOTBLK:         "not a block device",
	unix.EBUSY:           "device busy",
	unix.EXDEV:           "cross-device link",
	unix.ENODEV:          "device does not support operation",
	unix.ENOTDIR:         "not a directory",
	unix.EISDIR:          "is a directory",
	unix.EINVAL:          "invalid argument",
	unix.ENFILE:          "system cannot open more files",
	unix.EMFILE:          "process cannot open more files",
	unix.ENOTTY:          "not a tty",
	unix.EFBIG:           "file too big",
	unix.ENOSPC:          "out of disk space",
	unix.ESPIPE:          "unseekable descriptor",
	unix.EROFS:           "read-only file system",
	unix.EMLINK:          "too many links",
	unix.EDOM:            "input out of range",
	unix.ERANGE:          "output out of range",
	unix.EALREADY:        "operation already in progress",
	unix.ENOTSOCK:        "not a socket",
	unix.EDESTADDRREQ:    "destination address required",
	unix.EMSGSIZE:        "message too long",
	unix.EPROTOTYPE:      "incorrect protocol type",
	unix.ENOPROTOOPT:     "protocol not available",
	unix.EPROTONOSUPPORT: "protocol not supported",
	unix.ESOCKTNOSUPPORT: "socket type not supported",
	unix.EOPNOTSUPP:      "operation not supported",
	unix.EPFNOSUPPORT:    "protocol family not supported",
	unix.EAFNOSUPPORT:    "address family not supported",
	unix.EADDRINUSE:      "address already used",
	unix.EADDRNOTAVAIL:   "address not available",
	unix.ENETDOWN:        "network down",
	unix.ENETUNREACH:     "network unreachable",
	unix.ENETRESET:       "network reset",
	unix.ECONNABORTED:    "connection aborted",
	unix.ECONNRESET:      "connection reset",
	unix.ENOBUFS:         "out of buffer space",
	unix.EISCONN:         "already connected",
	unix.ENOTCONN:        "not connected",
	unix.ESHUTDOWN:       "socket shut down",
	unix.ETOOMANYREFS:    "too many references",
	unix.ECONNREFUSED:    "connection refused",
	unix.ELOOP:           "symbolic link loop",
	unix.ENAMETOOLONG:    "file name too long",
	unix.EHOSTDOWN:       "host down",
	unix.EHOSTUNREACH:    "host unreachable",
	unix.ENOTEMPTY:       "directory not empty",
	unix.EUSERS:          "too many users",
	unix.EDQUOT:          "disk quota exceeded",
	unix.ESTALE:          "stale NFS file handle",
	unix.EREMOTE:         "too many levels of remote in path",
	unix.ENOLCK:          "no locks available",
	unix.ENOSYS:          "system call not available",
}
