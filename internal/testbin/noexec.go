package testbin

import (
	"fmt"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// MainWithoutProcesses is Main for a package whose tests must start no
// process (a library tested through fakes): before they run, it forbids
// execve to every thread of this process, so that a test that tries to
// start one fails with EPERM. With nothing to leave behind, it needs no
// guard.
func MainWithoutProcesses(m *testing.M) {
	if err := forbidExec(); err != nil {
		fmt.Fprintln(os.Stderr, "testbin: cannot forbid starting processes:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// forbidExec installs a seccomp filter on every thread of this process
// that fails execve and execveat with EPERM. A fork whose exec fails
// runs nothing (Go's exec reaps it before it returns the error).
func forbidExec() error {
	const nr = 0 // the offset of the syscall's number in seccomp_data
	deny := unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: nr},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_EXECVE, Jt: 2},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_EXECVEAT, Jt: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		{Code: unix.BPF_RET | unix.BPF_K, K: deny},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	// Required of a filter installed without CAP_SYS_ADMIN.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if e != 0 {
		return fmt.Errorf("seccomp: %w", e)
	}
	return nil
}
