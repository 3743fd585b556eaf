package svstat

import (
	"testing"

	"daemontools/internal/status"
	"daemontools/internal/tai64"
)

func TestLine(t *testing.T) {
	now := tai64.Label{Sec: tai64.Offset + 1000}
	tests := []struct {
		s          status.Status
		normallyUp bool
		want       string
	}{
		{status.Status{Since: tai64.Label{Sec: tai64.Offset + 990}, Pid: 5, Want: 'u'}, true, "up (pid 5) 10 seconds"},
		{status.Status{Since: tai64.Label{Sec: tai64.Offset + 2000}, Want: 'u'}, true, "down 0 seconds, normally up, want up"},
		// 4611686018427388914 seconds, as daemontools prints it: through a double.
		{status.Status{Since: tai64.Label{}, Want: 'd'}, false, "down 4611686018427388928 seconds"},
		{status.Status{Since: now, Pid: 9, Paused: true, Want: 'd'}, false, "up (pid 9) 0 seconds, normally down, paused, want down"},
	}
	for _, tc := range tests {
		if got := line(tc.s, tc.normallyUp, now); got != tc.want {
			t.Errorf("line(%+v, %v) = %q, want %q", tc.s, tc.normallyUp, got, tc.want)
		}
	}
}
