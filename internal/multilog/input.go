package multilog

import (
	"errors"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
)

// chunk is the most input read at once when it is not a pipe.
const chunk = 1 << 20

// A partial line waiting in the pipe looks for the rest after heldPollMin,
// then ever less often, up to heldPollMax.
const (
	heldPollMin = 50 * time.Microsecond
	heldPollMax = 20 * time.Millisecond
)

// signals turns TERM and ALRM into flags and a byte on a pipe, so that the
// input loop can wait for input and signals at once.
type signals struct {
	term, alrm atomic.Bool
	r, w       int
	ch         chan os.Signal
}

func newSignals() (*signals, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	s := &signals{r: p[0], w: p[1], ch: make(chan os.Signal, 4)}
	signal.Notify(s.ch, unix.SIGTERM, unix.SIGALRM)
	go func() {
		for sig := range s.ch {
			if sig == unix.SIGTERM {
				s.term.Store(true)
			} else {
				s.alrm.Store(true)
			}
			unix.Write(s.w, []byte{0})
		}
	}()
	return s, nil
}

func (s *signals) drain() {
	var b [64]byte
	for {
		if n, _ := unix.Read(s.r, b[:]); n <= 0 {
			return
		}
	}
}

// Run logs everything from the descriptor in until end of input or TERM.
func (m *Multilog) Run(in int) error {
	sig, err := newSignals()
	if err != nil {
		return strerr.Fatal("unable to create pipe: ", err)
	}
	defer signal.Stop(sig.ch)
	var st unix.Stat_t
	if unix.Fstat(in, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		if r, err := newPipeInput(in); err == nil {
			defer r.close()
			return m.runPipe(r, sig)
		}
	}
	return m.runPlain(in, sig)
}

// wait blocks until fd (if not -1) is readable, its writers are gone, or a
// signal came, or timeout passes (negative: no limit). It reports whether
// fd hung up.
func (sig *signals) wait(fd int, timeout time.Duration) (hup bool) {
	fds := []unix.PollFd{{Fd: int32(sig.r), Events: unix.POLLIN}}
	if fd >= 0 {
		fds = append(fds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	if _, err := unix.Ppoll(fds, ts, nil); err != nil {
		return false
	}
	if fds[0].Revents != 0 {
		sig.drain()
	}
	return fd >= 0 && fds[1].Revents&(unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 && fds[1].Revents&unix.POLLIN == 0
}

// signalled acts on ALRM and says whether TERM asks to stop at the next
// line end.
func (m *Multilog) signalled(sig *signals) bool {
	if sig.alrm.Swap(false) {
		m.flush()
		m.rotateNonEmpty()
	}
	return sig.term.Load()
}

// runPlain reads input that is not a pipe: bytes read are gone from it,
// as with daemontools.
func (m *Multilog) runPlain(in int, sig *signals) error {
	buf := make([]byte, chunk)
	for {
		stop := m.signalled(sig)
		if stop && !m.inLine {
			return nil
		}
		sig.wait(in, -1)
		if m.signalled(sig) && !m.inLine {
			return nil
		}
		n, err := unix.Read(in, buf)
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return strerr.Fatal("unable to read input: ", err)
		}
		if n == 0 {
			m.endInput()
			return nil
		}
		used := m.feed(buf[:n], sig.term.Load())
		m.flush()
		if used < n {
			unix.Seek(in, int64(used-n), 1) // give back what TERM left unread, if we can
			return nil
		}
	}
}

// pipeInput reads a pipe without consuming it: tee(2) copies the bytes at
// its head into a private pipe, and they are consumed only once written.
type pipeInput struct {
	in        int
	r, w      int // the private pipe
	null      int
	buf, junk []byte
}

func newPipeInput(in int) (*pipeInput, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	r := &pipeInput{in: in, r: p[0], w: p[1], null: -1}
	// The private pipe takes what the input pipe can hold. The input pipe
	// is left its size: enlarging it would count against the pipe memory
	// of the account running us, shared by all its loggers.
	size, err := unix.FcntlInt(uintptr(in), unix.F_GETPIPE_SZ, 0)
	if err == nil {
		unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, size)
	}
	if size, err = unix.FcntlInt(uintptr(p[1]), unix.F_GETPIPE_SZ, 0); err != nil {
		r.close()
		return nil, err
	}
	r.buf = make([]byte, size)
	// Probe: tee works only when in is a pipe the kernel lets us tee.
	if _, err := unix.Tee(in, r.w, 0, unix.SPLICE_F_NONBLOCK); err != nil && err != unix.EAGAIN {
		r.close()
		return nil, err
	}
	if fd, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
		r.null = fd
	}
	return r, nil
}

func (r *pipeInput) close() {
	unix.Close(r.r)
	unix.Close(r.w)
	if r.null >= 0 {
		unix.Close(r.null)
	}
}

// peek copies up to len(buf) bytes from the head of the input, leaving
// them there. It returns 0 when nothing is there.
func (r *pipeInput) peek() (int, error) {
	n, err := unix.Tee(r.in, r.w, len(r.buf), unix.SPLICE_F_NONBLOCK)
	if err == unix.EAGAIN || err == unix.EINTR {
		return 0, nil
	}
	if err != nil || n == 0 {
		return 0, err
	}
	got := 0
	for got < int(n) {
		k, err := unix.Read(r.r, r.buf[got:n])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		got += k
	}
	return got, nil
}

// consume takes n bytes off the input: they are written.
func (r *pipeInput) consume(n int) error {
	for n > 0 {
		var k int
		var err error
		if r.null >= 0 {
			var k64 int64
			k64, err = unix.Splice(r.in, nil, r.null, nil, n, 0)
			k = int(k64)
			if err == unix.EINVAL {
				unix.Close(r.null)
				r.null = -1
				continue
			}
		} else {
			if r.junk == nil {
				r.junk = make([]byte, 64<<10)
			}
			k, err = unix.Read(r.in, r.junk[:min(n, len(r.junk))])
		}
		if err == unix.EINTR || err == unix.EAGAIN {
			continue
		}
		if err != nil {
			return err
		}
		if k == 0 {
			return errors.New("input shrank")
		}
		n -= k
	}
	return nil
}

// available is how many bytes wait in the pipe.
func (r *pipeInput) available() int {
	n, err := unix.IoctlGetInt(r.in, unix.TIOCINQ)
	if err != nil {
		return 0
	}
	return n
}

func (m *Multilog) runPipe(r *pipeInput, sig *signals) error {
	held := 0    // bytes at the head of the pipe that m holds, unwritten
	hup := false // the last wait found every writer gone
	heldPoll := heldPollMin
	for {
		stop := m.signalled(sig)
		if stop && !m.inLine {
			return nil
		}
		// Look before waiting: under a steady writer there is always
		// more, and the poll(2) would be a system call for nothing.
		n, err := r.peek()
		if err != nil {
			return strerr.Fatal("unable to read input: ", err)
		}
		if n <= held {
			if hup {
				// End of input: no writer and nothing new.
				m.endInput()
				m.flush()
				return r.consumeOrFail(held)
			}
			if held == 0 {
				hup = sig.wait(r.in, -1)
			} else if r.available() <= held {
				// The start of a line sits in the pipe waiting for the
				// rest: poll(2) cannot wait for more than is there, so
				// look again soon.
				hup = sig.wait(-1, heldPoll) || r.hungUp()
				heldPoll = min(2*heldPoll, heldPollMax)
			}
			continue
		}
		hup = false
		heldPoll = heldPollMin
		used := m.feed(r.buf[held:n], stop)
		m.flush()
		newHeld := m.held
		if err := r.consumeOrFail(held + used - newHeld); err != nil {
			return err
		}
		held = newHeld
		if stop && !m.inLine {
			return nil // TERM: the rest stays in the pipe
		}
	}
}

func (r *pipeInput) consumeOrFail(n int) error {
	if err := r.consume(n); err != nil {
		return strerr.Fatal("unable to read input: ", err)
	}
	return nil
}

// hungUp reports whether every writer of the pipe is gone.
func (r *pipeInput) hungUp() bool {
	fds := []unix.PollFd{{Fd: int32(r.in), Events: unix.POLLIN}}
	unix.Poll(fds, 0)
	return fds[0].Revents&unix.POLLHUP != 0
}
