package supervise

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A gate holds ./run, once forked, until the status record names its
// process: were supervise killed between the fork and the record, the
// next supervise would find no process in the record and start a second
// copy. ./run is started through /bin/sh, which reads a line from the
// gate's pipe and only then execs ./run in the same process; the
// supervisor writes that line once the record is written. A supervisor
// killed before that closes the pipe unwritten, and the shell exits
// without running ./run. The same shell sets WATCHDOG_PID.
type gate struct{ read, write int } // the pipe's ends; -1 when none

var noGate = gate{-1, -1}

// gateShell is the shell through which ./run starts.
const gateShell = "/bin/sh"

// gateFd is the descriptor on which the shell reads the gate (or the one
// below it when ./run's notification-fd is that one); the shell closes it
// before it execs ./run.
const gateFd = 9

// throughShell is how to start ./run with files as its descriptors: through
// the shell and a gate, and with WATCHDOG_PID set to its own pid when
// watchdog (as systemd sets it, so that sd_watchdog_enabled(3) says yes in
// ./run and no in the processes it forks; the pid is not known before the
// fork, so the shell learns it, $$). The shell puts PWD, which it sets,
// back as env has it. Without the shell, ./run starts directly, with no
// gate and no WATCHDOG_PID; so does a ./run that the kernel would not
// execute, so that it fails as it would directly (kernelRuns), and one
// whose environment the shell would not pass on as it is (shellKeeps), or
// when the pipe cannot be had.
func (s *system) throughShell(env []string, files []uintptr, watchdog bool) ([]string, []uintptr, gate) {
	direct := []string{"./run"}
	if unix.Access(gateShell, unix.X_OK) != nil || !s.kernelRuns() || !shellKeeps(env) {
		return direct, files, noGate
	}
	var p [2]int
	if unix.Pipe2(p[:], unix.O_CLOEXEC) != nil {
		return direct, files, noGate
	}
	fd := gateFd
	if s.ready.fd == fd {
		fd--
	}
	for len(files) <= fd {
		files = append(files, ^uintptr(0)) // closed in ./run
	}
	files[fd] = uintptr(p[0])
	n := strconv.Itoa(fd)
	script := `read -r gate <&` + n + ` || exit 111; exec ` + n + `<&-; unset gate; if [ $# = 1 ]; then PWD=$1; else unset PWD; fi; `
	if watchdog {
		script += `export WATCHDOG_PID=$$; `
	}
	argv := []string{gateShell, "-c", script + `exec ./run`, "./run"}
	for _, kv := range env {
		if pwd, ok := strings.CutPrefix(kv, "PWD="); ok {
			argv = append(argv, pwd) // the first, as getenv(3) finds it
			break
		}
	}
	return argv, files, gate{p[0], p[1]}
}

// forked closes the gate's read end, which the child has, once it is
// forked.
func (g *gate) forked() {
	if g.read >= 0 {
		unix.Close(g.read)
		g.read = -1
	}
}

// open lets ./run run: the record names it. Closed without the line, the
// gate makes the shell exit instead.
func (g *gate) open(pass bool) {
	g.forked()
	if g.write >= 0 {
		if pass {
			unix.Write(g.write, []byte("\n"))
		}
		unix.Close(g.write)
		g.write = -1
	}
}
