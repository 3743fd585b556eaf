package supervise

import (
	"bytes"
	"strings"

	"golang.org/x/sys/unix"
)

// watchdogShell is the shell through which a ./run with a watchdog
// starts, to learn its own pid.
const watchdogShell = "/bin/sh"

// withWatchdogPid is how to start ./run with WATCHDOG_PID set to its own
// pid, as systemd sets it, so that sd_watchdog_enabled(3) says yes in
// ./run and no in the processes it forks: the pid is not known before the
// fork, so ./run starts through the shell, which learns it ($$) and then
// execs ./run in the same process. The shell puts PWD, which it sets, back
// as env has it. Without the shell, ./run starts directly, with no
// WATCHDOG_PID; so does a ./run that the kernel would not execute, so that
// it fails as it would directly (kernelRuns), and one whose environment
// the shell would not pass on as it is (shellKeeps).
func (s *system) withWatchdogPid(env []string) []string {
	if unix.Access(watchdogShell, unix.X_OK) != nil || !s.kernelRuns() || !shellKeeps(env) {
		return []string{"./run"}
	}
	script := `if [ $# = 1 ]; then PWD=$1; else unset PWD; fi; export WATCHDOG_PID=$$; exec ./run`
	argv := []string{watchdogShell, "-c", script, "./run"}
	for _, kv := range env {
		if pwd, ok := strings.CutPrefix(kv, "PWD="); ok {
			argv = append(argv, pwd) // the first, as getenv(3) finds it
			break
		}
	}
	return argv
}

// kernelRuns tells whether execve(2) would run ./run: an executable
// regular file, ELF or starting with #! and an executable interpreter.
// The shell's exec would run any other file as a shell script, or fail
// with words and an exit code of its own. Any doubt (a file we may not
// read, a format binfmt_misc knows) starts ./run directly.
func (s *system) kernelRuns() bool {
	if unix.Faccessat(s.dir, "run", unix.X_OK, 0) != nil {
		return false
	}
	fd, err := unix.Openat(s.dir, "run", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false
	}
	var head [256]byte // as much as the kernel reads of a #! line
	n, err := unix.Read(fd, head[:])
	if err != nil {
		return false
	}
	if bytes.HasPrefix(head[:n], []byte("\x7fELF")) {
		return true
	}
	line, ok := bytes.CutPrefix(head[:n], []byte("#!"))
	line = bytes.TrimLeft(line, " \t")
	end := bytes.IndexAny(line, " \t\n\x00")
	if !ok || end <= 0 {
		return false
	}
	return unix.Faccessat(s.dir, string(line[:end]), unix.X_OK, 0) == nil
}

// shellKeeps tells whether the shell passes env on to what it execs as it
// is: it drops a variable whose name is not a shell name (containers have
// names with dots), and sets IFS, OPTIND and PPID itself (dash even
// refuses to start on an OPTIND that is not a number).
func shellKeeps(env []string) bool {
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !isShellName(name) || name == "IFS" || name == "OPTIND" || name == "PPID" {
			return false
		}
	}
	return true
}

// isShellName: a letter or underscore, then letters, digits, underscores.
func isShellName(name string) bool {
	for i, c := range []byte(name) {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return name != ""
}
