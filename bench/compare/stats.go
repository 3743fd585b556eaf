package main

import (
	"fmt"
	"math"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// quantile returns the q-quantile (0..1) of xs by the nearest-rank method,
// NaN for no data.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	rank := int(math.Ceil(q * float64(len(s))))
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitFor polls cond every 200 µs until it holds or the timeout passes.
// It sleeps in nanosleep, not time.Sleep: an idle Go runtime waits for its
// timers in epoll_pwait, whole milliseconds, which made every latency a
// multiple of about 1.08 ms.
func waitFor(what string, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	poll := unix.NsecToTimespec(int64(200 * time.Microsecond))
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not after %v", what, timeout)
		}
		unix.Nanosleep(&poll, nil)
	}
	return nil
}
