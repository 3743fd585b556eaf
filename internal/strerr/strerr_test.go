package strerr

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestReasonContract(t *testing.T) {
	// The wording daemontools uses (doc/protocols.md), errno by errno.
	tests := []struct {
		errno syscall.Errno
		want  string
	}{
		{syscall.ENOENT, "file does not exist"},
		{syscall.EACCES, "access denied"},
		{syscall.EPERM, "permission denied"},
		{syscall.EAGAIN, "temporary failure"},
		{syscall.EWOULDBLOCK, "temporary failure"},
		{syscall.ENXIO, "device not configured"},
		{syscall.EEXIST, "file already exists"},
		{syscall.ENOTDIR, "not a directory"},
		{syscall.EISDIR, "is a directory"},
		{syscall.ELOOP, "symbolic link loop"},
		{syscall.ENOSPC, "out of disk space"},
		{syscall.EROFS, "read-only file system"},
		{syscall.EINTR, "interrupted system call"},
		{syscall.ENOMEM, "out of memory"},
		{syscall.EIO, "input/output error"},
		{syscall.EPIPE, "broken pipe"},
		{syscall.EBUSY, "device busy"},
		{syscall.EINVAL, "invalid argument"},
		{syscall.ENOEXEC, "exec format error"},
		{syscall.ETXTBSY, "text busy"},
		{syscall.EMFILE, "process cannot open more files"},
		{syscall.ENFILE, "system cannot open more files"},
		{syscall.ENAMETOOLONG, "file name too long"},
		{syscall.ENOTEMPTY, "directory not empty"},
		{syscall.ESRCH, "no such process"},
		{syscall.ECHILD, "no child processes"},
		{syscall.EXDEV, "cross-device link"},
		{syscall.EFBIG, "file too big"},
	}
	for _, tc := range tests {
		if got := Reason(tc.errno); got != tc.want {
			t.Errorf("Reason(%d) = %q, want %q", tc.errno, got, tc.want)
		}
	}
}

func TestReasonUnwraps(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nonexistent")
	_, err := os.Open(missing + "/x")
	if got := Reason(err); got != "file does not exist" {
		t.Errorf("Reason(%v) = %q", err, got)
	}
	if got := Reason(fmt.Errorf("wrapped: %w", syscall.EACCES)); got != "access denied" {
		t.Errorf("wrapped EACCES: %q", got)
	}
	if got := Reason(fmt.Errorf("no errno")); got != "unknown error" {
		t.Errorf("plain error: %q", got)
	}
	if got := Reason(syscall.Errno(4000)); got != "unknown error" {
		t.Errorf("unlisted errno: %q", got)
	}
}

func TestReport(t *testing.T) {
	tests := []struct {
		err      error
		wantOut  string
		wantCode int
	}{
		{nil, "", 0},
		{Fatal("unable to open ", "x", ": ", syscall.ENOENT), "prog: fatal: unable to open x: file does not exist\n", 111},
		{Usage("prog [-x] dir"), "prog: usage: prog [-x] dir\n", 100},
		{Exit(100), "", 100},
		{Exit(0), "", 0},
		{fmt.Errorf("ctx: %w", Usage("u")), "prog: usage: u\n", 100},
		{syscall.EPIPE, "prog: fatal: broken pipe\n", 111},
		{&Error{Code: 1, Kind: "fatal", Msg: "m 7"}, "prog: fatal: m 7\n", 1},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		code := Report(&b, "prog", tc.err)
		if b.String() != tc.wantOut || code != tc.wantCode {
			t.Errorf("Report(%v) = %q, %d; want %q, %d", tc.err, b.String(), code, tc.wantOut, tc.wantCode)
		}
	}
}

func TestWarnAndJoin(t *testing.T) {
	var b bytes.Buffer
	Warn(&b, "svc", "unable to control ", "/service/x", ": ", syscall.ENXIO)
	if want := "svc: warning: unable to control /service/x: device not configured\n"; b.String() != want {
		t.Errorf("Warn wrote %q, want %q", b.String(), want)
	}
	if got := Join("n=", 7, " ", syscall.EIO); got != "n=7 input/output error" {
		t.Errorf("Join = %q", got)
	}
}

func TestReasonText(t *testing.T) {
	if got := Reason(fmt.Errorf("writing: %w", Text("partial write"))); got != "partial write" {
		t.Errorf("Reason(Text) = %q", got)
	}
}

// A fatal error keeps its cause: code asks errors.Is, not the message.
func TestFatalKeepsCause(t *testing.T) {
	err := error(Fatal("unable to open ", "x", ": ", fmt.Errorf("open x: %w", syscall.EMFILE)))
	if !errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		t.Errorf("%v: cause lost", err)
	}
	if wrapped := fmt.Errorf("starting: %w", err); !errors.Is(wrapped, syscall.EMFILE) {
		t.Errorf("%v: cause lost through a wrapper", wrapped)
	}
	if errors.Unwrap(Fatal("no cause")) != nil || errors.Unwrap(Usage("x")) != nil {
		t.Error("a cause where none was given")
	}
	if got := err.Error(); got != "fatal: unable to open x: process cannot open more files" {
		t.Errorf("message %q", got)
	}
}
