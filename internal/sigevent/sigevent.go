// Package sigevent turns signals into events that a loop waiting in poll or
// epoll on its other descriptors can wait for too: a descriptor that
// becomes readable when a signal arrives, and the set of signals that have
// arrived. Only a program (internal/command) asks for signals; the engines
// it drives get the Events.
//
// Signals of one kind that arrive before the loop looks count once, as the
// kernel counts them, and a flood of one kind never hides another.
package sigevent

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
)

// Set is a set of signals, numbers 1 to 63.
type Set uint64

// Has tells whether sig is in the set.
func (s Set) Has(sig syscall.Signal) bool { return sig > 0 && sig < 64 && s&(1<<sig) != 0 }

// Each calls f with every signal in the set, the lowest number first.
func (s Set) Each(f func(sig syscall.Signal)) {
	for sig := syscall.Signal(1); sig < 64; sig++ {
		if s.Has(sig) {
			f(sig)
		}
	}
}

// Events delivers the signals asked for.
type Events struct {
	r, w     int
	arrived  atomic.Uint64 // a Set
	channels []chan os.Signal
	done     sync.WaitGroup
}

// Notify catches sigs from now on (signal.Notify): each one that arrives
// joins the set Take returns and writes a byte into the pipe that Fd
// reads.
func Notify(sigs ...syscall.Signal) (*Events, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, err
	}
	e := &Events{r: p[0], w: p[1]}
	// A channel for each signal: a full one drops only a signal of its
	// own kind, already on its way.
	for _, sig := range sigs {
		c := make(chan os.Signal, 1)
		signal.Notify(c, sig)
		e.channels = append(e.channels, c)
		e.done.Add(1)
		go e.forward(c, Set(1)<<sig)
	}
	return e, nil
}

func (e *Events) forward(c <-chan os.Signal, bit Set) {
	defer e.done.Done()
	wake := []byte{0}
	for range c {
		// Joined before the byte is written: a Take after the Drain
		// that read the byte finds the signal.
		e.arrived.Or(uint64(bit))
		rawsys.Write(e.w, wake) // EAGAIN: the pipe is full of wake-ups already
	}
}

// Fd is the read end of the pipe, non-blocking: readable once a signal
// has arrived since the last Drain.
func (e *Events) Fd() int { return e.r }

// Drain empties the pipe. A loop that waits on Fd drains it, then Takes,
// before it waits again: the other order could leave a signal taken by
// no one with nothing in the pipe to say so.
func (e *Events) Drain() {
	var buf [64]byte
	for {
		if n, err := rawsys.Read(e.r, buf[:]); n < len(buf) || err != nil {
			return
		}
	}
}

// Take returns the signals that have arrived since the last Take and
// forgets them. It makes no system call.
func (e *Events) Take() Set { return Set(e.arrived.Swap(0)) }

// Close stops catching the signals (their default action again) and
// closes the pipe.
func (e *Events) Close() {
	for _, c := range e.channels {
		signal.Stop(c)
		close(c)
	}
	e.done.Wait()
	unix.Close(e.r)
	unix.Close(e.w)
}
