package testbin

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
)

// guardEnv marks the environment of a test binary that runs under its
// guard (and of every process it starts), so that it runs the tests
// rather than guarding them once more.
const guardEnv = "DAEMONTOOLS_TEST_GUARDED"

// settle is how long the processes still running when the tests end get
// to exit on their own (one told to stop just before may not be gone
// yet) before they are called left behind.
const settle = time.Second

// guard runs this test binary again, with the same arguments, as its
// child, and returns the exit code to end with: the child's, or 1 when the
// tests left a process running. It is the child subreaper of everything
// the tests start, so that every such process that outlives its parent
// (a daemon that forks off, a service whose supervise was killed, the
// session of a test stopped by its timeout) stays its descendant: what
// remains of its descendants once the child has exited, however it did
// (pass, fail, the panic of -test.timeout, a signal), was left behind.
// It kills them, says which they were, and fails. Only this binary's
// descendants are looked at: test runs of others on the machine are
// never touched.
func guard() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "testbin: guard:", err)
		return 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fail(fmt.Errorf("cannot become a subreaper: %w", err))
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	// Signals that stop a test run (go test's on its own timeout, ^C)
	// are passed on, so that the tests end as they would unguarded.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	pid, err := syscall.ForkExec(self, os.Args, &syscall.ProcAttr{
		Env:   append(os.Environ(), guardEnv+"=1"),
		Files: []uintptr{0, 1, 2},
	})
	if err != nil {
		return fail(err)
	}
	exited := make(chan unix.WaitStatus, 1)
	go reapAll(pid, exited)
	var ws unix.WaitStatus
	for waiting := true; waiting; {
		select {
		case sig := <-sigs:
			syscall.Kill(pid, sig.(syscall.Signal))
		case ws = <-exited:
			waiting = false
		}
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		fmt.Printf("testbin: the tests were killed by %v\n", ws.Signal())
		code = 1
	}
	if left := leftBehind(); len(left) > 0 {
		fmt.Printf("testbin: %d processes the tests started still run after them; killed:\n", len(left))
		for _, p := range left {
			fmt.Println("\t" + p)
		}
		fmt.Println("FAIL")
		code = max(code, 1)
	}
	return code
}

// reapAll reaps every child of this process, the test binary's and
// orphans it inherited, until none is left, sending the test binary's
// wait status to exited.
func reapAll(tests int, exited chan<- unix.WaitStatus) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case err == unix.EINTR:
		case err != nil:
			return
		case pid == tests:
			exited <- ws
		}
	}
}

// leftBehind waits settle for this process's descendants to exit, then
// kills those that are left until none is, and describes those that were
// running.
func leftBehind() []string {
	var left []string
	start := time.Now()
	for {
		ds := descendants()
		if len(ds) == 0 {
			return left
		}
		if time.Since(start) < settle {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		if left == nil {
			for _, d := range ds {
				if !d.Gone() {
					left = append(left, describe(d.Pid))
				}
			}
			if left == nil {
				left = []string{} // zombies alone: not running
			}
		}
		for _, d := range ds {
			syscall.Kill(d.Pid, syscall.SIGKILL)
		}
		if time.Since(start) > time.Minute {
			return append(left, fmt.Sprintf("(and still could not kill %d of them)", len(ds)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// descendants lists the processes whose parent, or parent's parent, and
// so on, is this process.
func descendants() []procstart.Stat {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]procstart.Stat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := procstart.ReadStat(pid); err == nil {
			children[s.PPid] = append(children[s.PPid], s)
		}
	}
	var ds []procstart.Stat
	next := []int{os.Getpid()}
	for len(next) > 0 {
		pid := next[0]
		next = next[1:]
		for _, c := range children[pid] {
			ds = append(ds, c)
			next = append(next, c.Pid)
		}
	}
	return ds
}

// describe names process pid by its command line and working directory,
// which for a test's process is under the test's temporary directory.
func describe(pid int) string {
	p := "/proc/" + strconv.Itoa(pid)
	cmdline, _ := os.ReadFile(p + "/cmdline")
	cwd, _ := os.Readlink(p + "/cwd")
	args := strings.ReplaceAll(strings.TrimSuffix(string(cmdline), "\x00"), "\x00", " ")
	return fmt.Sprintf("pid %d: %s (in %s)", pid, args, cwd)
}
