package strerr

import (
	"strings"
	"testing"
	"time"
)

// One warning of each kind per second gets through; the next one tells
// how many were held back.
func TestLimiter(t *testing.T) {
	var out strings.Builder
	l := Limiter{Every: time.Second}
	t0 := time.Unix(1000, 0)
	for i := range 100000 {
		l.Warn(&out, "supervise", t0.Add(time.Duration(i)*time.Microsecond), "flood", "datagram ", i)
	}
	l.Warn(&out, "supervise", t0.Add(500*time.Millisecond), "other", "another kind")
	l.Warn(&out, "supervise", t0.Add(time.Second), "flood", "datagram after a second")
	l.Warn(&out, "supervise", t0.Add(3*time.Second), "flood", "quiet again")
	want := "supervise: warning: datagram 0\n" +
		"supervise: warning: another kind\n" +
		"supervise: warning: datagram after a second (99999 more like it not shown)\n" +
		"supervise: warning: quiet again\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
