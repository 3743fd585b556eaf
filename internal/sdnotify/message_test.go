package sdnotify

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Message
		bad  string // the ParseError's text, "" for none
	}{
		{"READY=1", Message{Events: EventReady}, ""},
		{"READY=1\n", Message{Events: EventReady}, ""},
		{"STOPPING=1\nRELOADING=1\nWATCHDOG=1", Message{Events: EventStopping | EventReloading | EventWatchdog}, ""},
		{"WATCHDOG=trigger", Message{Events: EventWatchdogTrigger}, ""},
		{"STATUS=serving 3 clients\nREADY=1", Message{Events: EventReady, Status: "serving 3 clients", HasStatus: true}, ""},
		{"STATUS=", Message{HasStatus: true}, ""},
		{"STATUS=a=b", Message{Status: "a=b", HasStatus: true}, ""},
		{"MAINPID=4711", Message{MainPid: 4711}, ""},
		{"FDSTORE=1\nBARRIER=1\nERRNO=2\nEXTEND_TIMEOUT_USEC=5", Message{}, ""},
		{"", Message{}, ""},
		{"\n\n", Message{}, ""},
		// Bad lines are reported, the good ones obeyed all the same.
		{"hello\nREADY=1", Message{Events: EventReady}, `not an assignment: "hello"`},
		{"READY=1\nready=1", Message{Events: EventReady}, `not a variable name: "ready=1"`},
		{"=1", Message{}, `not a variable name: "=1"`},
		{"1X=1", Message{}, `not a variable name: "1X=1"`},
		{"READY=0", Message{}, `only 1 is meaningful: "READY=0"`},
		{"READY=yes\nREADY=1", Message{Events: EventReady}, `only 1 is meaningful: "READY=yes"`},
		{"MAINPID=x", Message{}, `not a process id: "MAINPID=x"`},
		{"MAINPID=0", Message{}, `not a process id: "MAINPID=0"`},
		{"MAINPID=+5", Message{}, `not a process id: "MAINPID=+5"`},
		{"STATUS=a\x00b", Message{}, `NUL in the value: "STATUS=a\x00b"`},
		{"X\nY", Message{}, `not an assignment: "X"`},
		{strings.Repeat("Z", 100), Message{}, `not an assignment: "` + strings.Repeat("Z", 40) + `"`},
	} {
		got, err := Parse([]byte(tc.in))
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		var pe *ParseError
		switch {
		case tc.bad == "" && err != nil:
			t.Errorf("Parse(%q): %v", tc.in, err)
		case tc.bad != "" && (!errors.As(err, &pe) || pe.Error() != tc.bad):
			t.Errorf("Parse(%q): error %v, want %s", tc.in, err, tc.bad)
		}
	}
}
