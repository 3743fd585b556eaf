package multilog

import (
	"sync/atomic"

	"daemontools/internal/strerr"
)

func fatal(parts ...any) error { return strerr.Fatal(parts...) }

// atomicFlag is set by the signal goroutine and read by the main loop.
type atomicFlag struct{ v atomic.Bool }

func (f *atomicFlag) set()       { f.v.Store(true) }
func (f *atomicFlag) get() bool  { return f.v.Load() }
func (f *atomicFlag) take() bool { return f.v.Swap(false) }
