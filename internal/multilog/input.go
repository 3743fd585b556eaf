package multilog

import (
	"errors"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
	"daemontools/internal/sigevent"
	"daemontools/internal/strerr"
)

// chunk is the most input read at once when it is not a pipe.
const chunk = 1 << 20

// pipeChunk is the most read at once out of the private pipe.
const pipeChunk = 64 << 10

// fastPipe is the size up to which the input pipe grows while its writer
// keeps it full: four times Linux's usual size. It shrinks back once empty.
const fastPipe = 256 << 10

// signals keeps what TERM and ALRM ask for until the loop acts on it; the
// descriptor of the Events wakes the input loop's waits.
type signals struct {
	events     *sigevent.Events
	term, alrm bool
	r          int
}

// drain empties the wake-up pipe; the next take finds what woke it.
func (s *signals) drain() { s.events.Drain() }

// take notes the signals that have arrived. It makes no system call.
func (s *signals) take() {
	got := s.events.Take()
	s.term = s.term || got.Has(unix.SIGTERM)
	s.alrm = s.alrm || got.Has(unix.SIGALRM)
}

// Run logs everything from the descriptor in until end of input or TERM.
// events brings SIGTERM and SIGALRM. SIGIO must not be among them: while
// Run waits for the rest of a line that a pipe input holds, the pipe sends
// it to the waiting thread, which takes it as it comes.
func (m *Multilog) Run(in int, events *sigevent.Events) error {
	sig := &signals{events: events, r: events.Fd()}
	var st unix.Stat_t
	if unix.Fstat(in, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		if r, err := newPipeInput(in, sig.r); err == nil {
			defer r.close()
			return m.runPipe(r, sig)
		}
	}
	return m.runPlain(in, sig)
}

// wait blocks until fd is readable or at its end, or a signal came.
func (sig *signals) wait(fd int) {
	fds := []unix.PollFd{{Fd: int32(sig.r), Events: unix.POLLIN}, {Fd: int32(fd), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, -1); err == nil && fds[0].Revents != 0 {
		sig.drain()
	}
}

// signalled acts on ALRM and says whether TERM asks to stop at the next
// line end.
func (m *Multilog) signalled(sig *signals) bool {
	sig.take()
	if sig.alrm {
		sig.alrm = false
		m.flush()
		m.rotateNonEmpty()
	}
	return sig.term
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
		sig.wait(in)
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
		used := m.feed(buf[:n], sig.term)
		m.flush()
		if used < n {
			unix.Seek(in, int64(used-n), 1) // give back what TERM left unread, if we can
			return nil
		}
	}
}

// pipeInput reads a pipe without consuming it: tee(2) copies the bytes at
// its head into a private pipe, and they are consumed only once written.
//
// A line is held in the pipe until its first HeadLen bytes are there, and
// tee(2) copies at most as many pipe buffers as the private pipe has. A
// writer that splices a line in many small pieces can fill every buffer of
// the input pipe with the start of one line: then both pipes are enlarged,
// and as a last resort, if the account may not have pipes that big, the
// start of the line is taken off the input and kept in memory only. Both
// are enlarged too, up to fastPipe, while the writer keeps the input full.
// The private pipe is read a piece of at most pipeChunk at a time.
//
// While a line is held, the pipe is not empty, and Linux wakes its epoll
// readers at the end of a write(2) but not when a write finds it full and
// waits for room; it does send SIGIO then, to the owner of an O_ASYNC
// reader. So the input has O_ASYNC set, and our thread as its owner only
// while we wait for the rest of a held line: under a steady writer, a
// signal per write would cost more than the writes. Meanwhile the loop
// keeps to that thread, which blocks SIGIO but for the wait itself
// (epoll_pwait), so a signal that comes before the wait ends it at once.
// The Go runtime ignores SIGIO that nobody asked it for: the signal wakes
// the thread, and nothing else.
type pipeInput struct {
	in        int
	r, w      int // the private pipe
	copies    int // bytes the private pipe takes: as many as the input
	null      int
	buf, junk []byte
	watch     int // epoll: the input, edge-triggered, and the signal pipe
	size      int // of the input pipe as found, to shrink it back to
	grown     bool
	async     bool // the input has O_ASYNC
	asyncSet  bool // O_ASYNC was set already (by a multilog killed before us)
	// The thread's signal mask from before it owned the input, and that
	// of the wait: without SIGIO.
	mask, waking unix.Sigset_t
}

func newPipeInput(in, signal int) (*pipeInput, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	r := &pipeInput{in: in, r: p[0], w: p[1], null: -1, watch: -1}
	// The private pipe takes what the input pipe can hold. The input pipe
	// is left its size unless a line fills it: enlarging it counts against
	// the pipe memory of the account running us, shared by all its loggers.
	size, err := unix.FcntlInt(uintptr(in), unix.F_GETPIPE_SZ, 0)
	if err == nil {
		r.size = size
		err = r.fit()
	}
	if err != nil {
		r.close()
		return nil, err
	}
	// Probe: tee works only when in is a pipe the kernel lets us tee.
	if _, err := unix.Tee(in, r.w, 0, unix.SPLICE_F_NONBLOCK); err != nil && err != unix.EAGAIN {
		r.close()
		return nil, err
	}
	if r.watch, err = watch(in, signal); err != nil {
		r.close()
		return nil, err
	}
	if fd, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
		r.null = fd
	}
	r.setAsync()
	return r, nil
}

// setAsync sets O_ASYNC on the input, shared with the other holders of
// its read end (svscan, supervise): with no owner, nobody gets signals.
func (r *pipeInput) setAsync() {
	flags, err := unix.FcntlInt(uintptr(r.in), unix.F_GETFL, 0)
	if err != nil {
		return
	}
	r.asyncSet = flags&unix.O_ASYNC != 0
	if _, err := unix.FcntlInt(uintptr(r.in), unix.F_SETOWN, 0); err != nil {
		return
	}
	if !r.asyncSet {
		if _, err := unix.FcntlInt(uintptr(r.in), unix.F_SETFL, flags|unix.O_ASYNC); err != nil {
			return
		}
	}
	r.async = true
}

// fOwnerTID is the owner type of F_SETOWN_EX that names one thread.
const fOwnerTID = 0

// sigio is bit SIGIO of a unix.Sigset_t.
const sigio = 1 << (unix.SIGIO - 1)

// signalUs has the input send SIGIO to our thread when written to (on),
// blocked but for the wait, or to nobody and the thread's signal mask
// back as it was (off), and reports whether it could: on locks the
// goroutine to its thread, off lets it go. Signals to nobody cost only a
// write's look at the owner.
func (r *pipeInput) signalUs(on bool) bool {
	if !r.async {
		return false
	}
	if !on {
		_, err := unix.FcntlInt(uintptr(r.in), unix.F_SETOWN, 0)
		unix.PthreadSigmask(unix.SIG_SETMASK, &r.mask, nil)
		runtime.UnlockOSThread()
		return err == nil
	}
	runtime.LockOSThread()
	var block unix.Sigset_t
	block.Val[0] = sigio
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &block, &r.mask); err != nil {
		runtime.UnlockOSThread()
		return false
	}
	r.waking = r.mask
	r.waking.Val[0] &^= sigio
	owner := struct{ typ, pid int32 }{fOwnerTID, int32(unix.Gettid())}
	if _, _, e := unix.Syscall(unix.SYS_FCNTL, uintptr(r.in), unix.F_SETOWN_EX, uintptr(unsafe.Pointer(&owner))); e != 0 {
		unix.PthreadSigmask(unix.SIG_SETMASK, &r.mask, nil)
		runtime.UnlockOSThread()
		return false
	}
	return true
}

// watch makes an epoll instance for the input and the signal pipe. The
// input is watched edge-triggered: a line held in it keeps it readable,
// and what matters is that something was added (the kernel wakes the
// pipe's epoll readers at the end of every write and splice).
func watch(in, signal int) (int, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return -1, err
	}
	err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, in, &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLET, Fd: int32(in)})
	if err == nil {
		err = unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, signal, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(signal)})
	}
	if err != nil {
		unix.Close(ep)
		return -1, err
	}
	return ep, nil
}

// fit gives the private pipe the size of the input pipe, and buf as much
// of it as is read at once.
func (r *pipeInput) fit() error {
	size, err := unix.FcntlInt(uintptr(r.in), unix.F_GETPIPE_SZ, 0)
	if err == nil {
		unix.FcntlInt(uintptr(r.w), unix.F_SETPIPE_SZ, size)
		size, err = unix.FcntlInt(uintptr(r.w), unix.F_GETPIPE_SZ, 0)
	}
	if err != nil {
		return err
	}
	r.copies = size
	if n := min(size, pipeChunk); len(r.buf) != n {
		r.buf = make([]byte, n)
	}
	return nil
}

// close leaves the input's O_ASYNC as it found it.
func (r *pipeInput) close() {
	if r.async {
		unix.FcntlInt(uintptr(r.in), unix.F_SETOWN, 0)
		if flags, err := unix.FcntlInt(uintptr(r.in), unix.F_GETFL, 0); err == nil && !r.asyncSet {
			unix.FcntlInt(uintptr(r.in), unix.F_SETFL, flags&^unix.O_ASYNC)
		}
	}
	for _, fd := range []int{r.r, r.w, r.null, r.watch} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// peek copies what the head of the input holds, as much as the private
// pipe takes, into the private pipe, leaving it in the input, and returns
// how many bytes it copied: 0 when nothing is there. When it finds no
// more than the held bytes, it empties the private pipe again, and tells
// whether they filled its every buffer, as many as the input pipe has:
// then the input pipe is full, and its writer waits for room.
func (r *pipeInput) peek(held int) (k int, full bool, err error) {
	k, err = rawsys.Tee(r.in, r.w, r.copies)
	if err == unix.EAGAIN || err == unix.EINTR {
		return 0, false, nil
	}
	if err != nil || k == 0 {
		return 0, false, err
	}
	if k <= held {
		fds := []unix.PollFd{{Fd: int32(r.w), Events: unix.POLLOUT}}
		unix.Poll(fds, 0)
		full = fds[0].Revents&unix.POLLOUT == 0
		if err := r.discard(k); err != nil {
			return 0, false, err
		}
	}
	return k, full, nil
}

// discard empties the private pipe of the n bytes it holds.
func (r *pipeInput) discard(n int) error {
	for n > 0 {
		p, err := r.next(n)
		if err != nil {
			return err
		}
		n -= len(p)
	}
	return nil
}

// next reads the next piece, up to len(buf), of the n bytes left in the
// private pipe.
func (r *pipeInput) next(n int) ([]byte, error) {
	p := r.buf[:min(n, len(r.buf))]
	for got := 0; got < len(p); {
		k, err := rawsys.Read(r.r, p[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		got += k
	}
	return p, nil
}

// take runs the script over the k bytes peek copied but the first held
// ones, which m has already, a piece at a time, and says how many it
// took: fewer when stop ends it at a line end. It empties the private
// pipe either way.
func (m *Multilog) take(r *pipeInput, held, k int, stop bool) (int, error) {
	used, ended := 0, false
	for left := k; left > 0; {
		p, err := r.next(left)
		if err != nil {
			return 0, err
		}
		left -= len(p)
		skip := min(held, len(p))
		held -= skip
		if p = p[skip:]; len(p) > 0 && !ended {
			n := m.feed(p, stop)
			used += n
			ended = n < len(p)
		}
	}
	return used, nil
}

// grow doubles both pipes, and says whether the input pipe got bigger.
func (r *pipeInput) grow() bool {
	size, err := unix.FcntlInt(uintptr(r.in), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		return false
	}
	if _, err = unix.FcntlInt(uintptr(r.in), unix.F_SETPIPE_SZ, 2*size); err != nil {
		return false
	}
	r.grown = true
	return r.fit() == nil
}

// shrink gives the input pipe back its size once it is empty.
func (r *pipeInput) shrink() {
	if !r.grown {
		return
	}
	if _, err := unix.FcntlInt(uintptr(r.in), unix.F_SETPIPE_SZ, r.size); err == nil {
		r.grown = false
		r.fit()
	}
}

// consume takes n bytes off the input: they are written.
func (r *pipeInput) consume(n int) error {
	for n > 0 {
		var k int
		var err error
		if r.null >= 0 {
			k, err = rawsys.Splice(r.in, r.null, n)
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

// sleep waits until something is added to the input, its writers are
// gone, or a signal came, and tells whether the writers were gone. owner
// says our thread owns the input: then SIGIO ends the wait too.
func (r *pipeInput) sleep(sig *signals, owner bool) (hup bool) {
	var events [2]unix.EpollEvent
	var n int
	var err error
	if owner {
		n, err = epollPwait(r.watch, events[:], &r.waking)
	} else {
		n, err = unix.EpollWait(r.watch, events[:], -1)
	}
	if err != nil {
		return false
	}
	for _, e := range events[:n] {
		if int(e.Fd) == sig.r {
			sig.drain()
		} else if e.Events&(unix.EPOLLHUP|unix.EPOLLERR) != 0 {
			hup = true
		}
	}
	return hup
}

// kernelSigsetSize is the size of the kernel's signal set: 64 signals.
const kernelSigsetSize = 8

// epollPwait waits without end for events of ep with the signal mask
// mask.
func epollPwait(ep int, events []unix.EpollEvent, mask *unix.Sigset_t) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), ^uintptr(0), uintptr(unsafe.Pointer(mask)), kernelSigsetSize)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// yieldEvery is how often the input loop yields, well within the
// runtime's 10 ms.
const yieldEvery = 5 * time.Millisecond

func (m *Multilog) runPipe(r *pipeInput, sig *signals) error {
	held := 0    // bytes at the head of the pipe that m holds, unwritten
	hup := false // every writer was gone at the last wake
	// letGo takes the held start of the line off the pipe: m keeps it.
	letGo := func() error {
		m.keepHeld()
		err := r.consumeOrFail(held)
		held = 0
		return err
	}
	yielded := time.Now()
	for {
		// Under a steady writer the loop never waits. The runtime's
		// monitor then takes the processor of a goroutine it finds in a
		// system call once it has run 10 ms without a yield, at each of
		// its looks, which come every 20 µs from then on: yield first.
		if now := time.Now(); now.Sub(yielded) >= yieldEvery {
			runtime.Gosched()
			yielded = now
		}
		stop := m.signalled(sig)
		if stop && !m.inLine {
			return nil
		}
		// Look before waiting: under a steady writer there is always
		// more, and the wait would be a system call for nothing.
		k, full, err := r.peek(held)
		if err != nil {
			return strerr.Fatal("unable to read input: ", err)
		}
		if k > held {
			used, err := m.take(r, held, k, stop)
			if err != nil {
				return strerr.Fatal("unable to read input: ", err)
			}
			if k == r.copies && r.copies < fastPipe {
				// The writer is ahead: a bigger pipe lets it write
				// while this is written, in fewer, bigger pieces.
				r.grow()
			}
			m.flush()
			newHeld := m.held
			if err := r.consumeOrFail(held + used - newHeld); err != nil {
				return err
			}
			held = newHeld
			if stop && !m.inLine {
				return nil // TERM: the rest stays in the pipe
			}
			continue
		}
		switch {
		case hup && r.hungUp():
			// End of input: no writer and nothing new.
			m.endInput()
			m.flush()
			return r.consumeOrFail(held)
		case full:
			// The start of a line fills every buffer the pipe has, so
			// the writer cannot add the rest.
			if !r.grow() {
				if err := letGo(); err != nil {
					return err
				}
			}
		case held == 0:
			// The pipe is empty: the next write wakes us.
			r.shrink()
			hup = r.sleep(sig, false)
		case r.signalUs(true):
			// Every write signals us from now on: look once more
			// before sleeping. Nothing else runs while SIGIO is
			// blocked, which a processor would inherit.
			k, full, err := r.peek(held)
			if err == nil && k <= held && !full {
				hup = r.sleep(sig, true)
			} else if err == nil && k > held {
				err = r.discard(k) // news: the next look takes it
			}
			r.signalUs(false)
			if err != nil {
				return strerr.Fatal("unable to read input: ", err)
			}
		default:
			// Nothing would wake us when a writer waits for room.
			if err := letGo(); err != nil {
				return err
			}
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
