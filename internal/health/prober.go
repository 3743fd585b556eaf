package health

import (
	"bytes"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
)

// Defaults of the settings (doc/extensions.md).
const (
	DefaultInterval = 10 * time.Second
	DefaultTimeout  = 5 * time.Second
	DefaultGrace    = 10 * time.Second // without readiness; with it, until ready
	DefaultFailures = 3
)

// firstGap is the longest wait for a probe until one has passed since the
// start: a service is known healthy soon after it starts, whatever its
// interval.
const firstGap = time.Second

// maxLine is how much of a probe's first line is kept.
const maxLine = 200

// Config is a service's probe and its timing, read from its directory at
// each start of ./run.
type Config struct {
	Kind     Kind
	Target   Target   // TCP, HTTP, Unix
	Dir      string   // Exec: where ./health runs
	Env      []string // Exec: its environment
	Interval time.Duration
	Timeout  time.Duration
	// Grace: failures this long after the start are not counted; with
	// UntilReady, those before the service is ready.
	Grace      time.Duration
	UntilReady bool
	Failures   int // in a row, to be unhealthy for good
}

// Outcome is what a Step did that its supervisor must act on.
type Outcome int

const (
	Quiet     Outcome = iota // nothing the status record shows
	Changed                  // the health, the failures in a row or the line changed
	Unhealthy                // Failures in a row: the service is to be stopped and started again
)

// Prober probes one service while it runs: Start at each start of ./run,
// Stop when it stops, Close at the end. Between them, its driver watches
// Fd for reading and calls Step by Timeout at the latest.
type Prober struct {
	cfg     Config
	ep      int // an epoll of the running probe's descriptors; -1 before the first
	started time.Time
	active  bool      // between Start and Stop
	next    time.Time // the next probe, while none runs
	began   time.Time // of the running probe
	due     time.Time // its deadline; zero while none runs

	sock     int // TCP, HTTP, Unix: -1 while none
	sent     bool
	pid      int // Exec: 0 while none
	pidfd    int
	out      int // Exec: the read end of its output, -1 once read to the end
	buf      []byte
	timedOut bool

	health   status.Health
	failures uint16
	line     string
}

// New is a prober that probes nothing yet.
func New() *Prober { return &Prober{ep: -1, sock: -1, pidfd: -1, out: -1} }

// Health is what the probes say: status.HealthNone without a probe.
func (p *Prober) Health() status.Health { return p.health }

// Failures is how many probes in a row have failed, past the grace.
func (p *Prober) Failures() uint16 { return p.failures }

// Line is the latest probe's first line of output, or what became of it.
func (p *Prober) Line() string { return p.line }

// Fd is the descriptor to watch for reading: readable when the running
// probe has something to say. -1 for none.
func (p *Prober) Fd() int { return p.ep }

// Pid is the pid of ./health while it runs, else 0: a child its
// supervisor reaps, not its driver.
func (p *Prober) Pid() int { return p.pid }

// Start begins probing at now, the start of ./run, as cfg says: the
// health is unknown until a probe passes.
func (p *Prober) Start(now time.Time, cfg Config) {
	p.Stop()
	p.cfg, p.started = cfg, now
	p.health, p.failures, p.line = status.HealthNone, 0, ""
	if cfg.Kind == None {
		return
	}
	if p.ep < 0 {
		ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			p.line = "unable to create an epoll: " + strerr.Reason(err)
		}
		p.ep = ep
	}
	p.active, p.health = true, status.HealthUnknown
	p.next = now.Add(min(cfg.Interval, firstGap))
}

// Stop ends probing: a probe running is abandoned (./health and its
// process group killed; its driver reaps it as any other child). What
// the probes said stays until the next Start.
func (p *Prober) Stop() {
	p.active = false
	p.end()
}

// Close stops probing for good.
func (p *Prober) Close() {
	p.Stop()
	if p.ep >= 0 {
		unix.Close(p.ep)
		p.ep = -1
	}
}

// Timeout is how long its driver may wait at now before calling Step: -1
// when nothing is due.
func (p *Prober) Timeout(now time.Time) time.Duration {
	switch {
	case !p.active:
		return -1
	case !p.due.IsZero():
		return max(0, p.due.Sub(now))
	}
	return max(0, p.next.Sub(now))
}

// Step does what is due at now without blocking: it follows the running
// probe, or starts the next one. ready says whether the service is ready
// (for a grace that lasts until then).
func (p *Prober) Step(now time.Time, ready bool) Outcome {
	if !p.active {
		return Quiet
	}
	if p.due.IsZero() {
		if now.Before(p.next) {
			return Quiet
		}
		p.begin(now)
	}
	ok, line, done := p.follow(now)
	if !done {
		return Quiet
	}
	p.end()
	gap := p.cfg.Interval
	if p.health != status.HealthHealthy && p.failures == 0 {
		gap = min(gap, firstGap)
	}
	if p.next = p.began.Add(gap); p.next.Before(now) {
		p.next = now // never two at once
	}
	return p.count(now, ok, line, ready)
}

// count follows a probe that passed (ok) or failed, saying line.
func (p *Prober) count(now time.Time, ok bool, line string, ready bool) Outcome {
	before := [3]any{p.health, p.failures, p.line}
	p.line = line
	switch {
	case ok:
		p.health, p.failures = status.HealthHealthy, 0
	case p.cfg.UntilReady && !ready || !p.cfg.UntilReady && now.Before(p.started.Add(p.cfg.Grace)):
		// In the grace: not counted.
	default:
		p.health = status.HealthUnhealthy
		p.failures = min(p.failures+1, 0xffff)
		if int(p.failures) >= p.cfg.Failures {
			p.Stop()
			return Unhealthy
		}
	}
	if before != [3]any{p.health, p.failures, p.line} {
		return Changed
	}
	return Quiet
}

// begin starts a probe.
func (p *Prober) begin(now time.Time) {
	p.began, p.due, p.buf, p.sent, p.timedOut = now, now.Add(p.cfg.Timeout), p.buf[:0], false, false
	if p.cfg.Kind == Exec {
		p.spawn()
		return
	}
	t := p.cfg.Target
	fd, err := unix.Socket(t.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		p.line = "unable to create a socket: " + strerr.Reason(err)
		return
	}
	p.sock = fd
	// A unix socket's EAGAIN is a full backlog: a server that does not
	// accept, not a connect under way.
	if err := unix.Connect(fd, t.addr); err != nil && err != unix.EINPROGRESS {
		p.closeSock()
		p.line = strerr.Reason(err)
		return
	}
	p.watch(fd, unix.EPOLLOUT, unix.EPOLL_CTL_ADD)
}

// spawn starts ./health in the service directory, in a process group of
// its own (killed whole at the timeout), its output into a pipe.
func (p *Prober) spawn() {
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		p.line = "unable to create a pipe: " + strerr.Reason(err)
		return
	}
	defer unix.Close(pipe[1])
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(pipe[0])
		p.line = "unable to open /dev/null: " + strerr.Reason(err)
		return
	}
	defer unix.Close(null)
	pidfd := -1
	attr := &syscall.ProcAttr{Dir: p.cfg.Dir, Env: p.cfg.Env, Files: []uintptr{uintptr(null), uintptr(pipe[1]), uintptr(pipe[1])},
		Sys: &syscall.SysProcAttr{PidFD: &pidfd, Setpgid: true}}
	pid, err := syscall.ForkExec("./"+ExecFile, []string{"./" + ExecFile}, attr)
	if err != nil {
		unix.Close(pipe[0])
		p.line = "unable to start ./" + ExecFile + ": " + strerr.Reason(err)
		return
	}
	p.pid, p.pidfd, p.out = pid, pidfd, pipe[0]
	p.watch(pidfd, unix.EPOLLIN, unix.EPOLL_CTL_ADD)
	p.watch(p.out, unix.EPOLLIN, unix.EPOLL_CTL_ADD)
}

// watch puts fd in the epoll, or changes what it waits for.
func (p *Prober) watch(fd int, events uint32, op int) {
	if p.ep >= 0 && fd >= 0 {
		unix.EpollCtl(p.ep, op, fd, &unix.EpollEvent{Events: events, Fd: int32(fd)})
	}
}

// follow looks at the running probe: done once it has passed (ok) or
// failed, with its line.
func (p *Prober) follow(now time.Time) (ok bool, line string, done bool) {
	switch {
	case p.pid != 0:
		return p.followExec(now)
	case p.sock >= 0:
		return p.followSocket(now)
	}
	return false, p.line, true // it could not start: p.line says why
}

func (p *Prober) followExec(now time.Time) (bool, string, bool) {
	p.readOutput()
	code, sig, exited := p.waitExec()
	if !exited {
		if !now.Before(p.due) {
			// Killed whole; its exit, seen through the pidfd, ends
			// it. The KILL goes again every second until then.
			unix.Kill(-p.pid, unix.SIGKILL) // not reaped yet: the group is still its
			if p.pidfd >= 0 {
				unix.PidfdSendSignal(p.pidfd, unix.SIGKILL, nil, 0) // were it in another group
			}
			p.timedOut, p.due = true, now.Add(time.Second)
		}
		return false, "", false
	}
	if p.pidfd >= 0 {
		unix.Close(p.pidfd) // reaped: its pid, and its group's, may be another's now
	}
	p.pid, p.pidfd = 0, -1
	p.readOutput()
	line := firstLine(p.buf)
	switch {
	case p.timedOut:
		return false, "timed out after " + strconv.FormatInt(p.cfg.Timeout.Milliseconds(), 10) + " ms", true
	case line != "":
	case sig != 0:
		line = "killed by signal " + strconv.Itoa(sig)
	case code < 0:
		line = "exit unknown"
	default:
		line = "exit " + strconv.Itoa(code)
	}
	return code == 0 && sig == 0, line, true
}

// readOutput reads what ./health has written, keeping the start of it.
func (p *Prober) readOutput() {
	var b [512]byte
	for p.out >= 0 {
		n, err := unix.Read(p.out, b[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // EAGAIN: all read for now
		}
		if n == 0 {
			unix.Close(p.out) // leaves the epoll with it
			p.out = -1
			return
		}
		if len(p.buf) < maxLine {
			p.buf = append(p.buf, b[:min(n, maxLine-len(p.buf))]...)
		}
	}
}

// waitExec reaps ./health if it has exited: its exit code, or the signal
// that killed it; code -1 when its status could not be had.
//
// Without a pidfd (a kernel before 5.2), wait4: its supervisor's driver
// steps it on SIGCHLD.
func (p *Prober) waitExec() (code, sig int, exited bool) {
	if p.pidfd < 0 {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(p.pid, &ws, unix.WNOHANG, nil)
		switch {
		case err == unix.ECHILD:
			return -1, 0, true
		case err != nil || pid != p.pid:
			return 0, 0, false
		case ws.Signaled():
			return 0, int(ws.Signal()), true
		}
		return ws.ExitStatus(), 0, true
	}
	code, sig, exited, err := rawsys.WaitPidfd(p.pidfd)
	switch {
	case err == unix.ECHILD:
		return -1, 0, true
	case err != nil || !exited:
		return 0, 0, false
	}
	return code, sig, true
}

func (p *Prober) followSocket(now time.Time) (bool, string, bool) {
	if !now.Before(p.due) {
		return false, "timed out after " + strconv.FormatInt(p.cfg.Timeout.Milliseconds(), 10) + " ms", true
	}
	if !p.sent {
		fds := []unix.PollFd{{Fd: int32(p.sock), Events: unix.POLLOUT}}
		if n, _ := unix.Poll(fds, 0); n == 0 {
			return false, "", false // still connecting
		}
		if e, err := unix.GetsockoptInt(p.sock, unix.SOL_SOCKET, unix.SO_ERROR); err != nil || e != 0 {
			if err == nil {
				err = unix.Errno(e)
			}
			return false, strerr.Reason(err), true
		}
		if p.cfg.Kind != HTTP {
			return true, "connected", true
		}
		n, err := unix.Write(p.sock, p.cfg.Target.request)
		if err != nil || n < len(p.cfg.Target.request) {
			return false, "unable to send the request", true
		}
		p.sent = true
		p.watch(p.sock, unix.EPOLLIN, unix.EPOLL_CTL_MOD)
	}
	var b [512]byte
	for {
		n, err := unix.Read(p.sock, b[:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false, "", false
		case err != nil:
			return false, strerr.Reason(err), true
		case n == 0:
			return httpAnswer(p.buf, true)
		}
		p.buf = append(p.buf, b[:min(n, maxLine-len(p.buf))]...)
		if bytes.IndexByte(p.buf, '\n') >= 0 || len(p.buf) >= maxLine {
			return httpAnswer(p.buf, false)
		}
	}
}

// httpAnswer judges a response by its status line: 2xx and 3xx pass.
func httpAnswer(b []byte, closed bool) (bool, string, bool) {
	line := firstLine(b)
	if line == "" && closed {
		return false, "connection closed without a response", true
	}
	proto, rest, _ := bytes.Cut([]byte(line), []byte(" "))
	if !bytes.HasPrefix(proto, []byte("HTTP/")) || len(rest) < 3 {
		return false, "not an HTTP response: " + line, true
	}
	code, err := strconv.Atoi(string(rest[:3]))
	return err == nil && code >= 200 && code < 400, line, true
}

// firstLine is b's first line, without its end's blanks.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(bytes.TrimRight(line, " \t\r"))
}

// end lets go of the running probe, if any.
func (p *Prober) end() {
	if p.pid != 0 { // not reaped yet: it may still run
		unix.Kill(-p.pid, unix.SIGKILL)
		if p.pidfd >= 0 {
			unix.Close(p.pidfd)
		}
		p.pid, p.pidfd = 0, -1
	}
	if p.out >= 0 {
		unix.Close(p.out)
		p.out = -1
	}
	p.closeSock()
	p.due = time.Time{}
}

func (p *Prober) closeSock() {
	if p.sock >= 0 {
		unix.Close(p.sock)
		p.sock = -1
	}
}
