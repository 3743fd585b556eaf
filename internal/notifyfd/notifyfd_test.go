package notifyfd

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fd   int
		fail string
	}{
		{"3", 3, ""},
		{"3\n", 3, ""},
		{"1023", 1023, ""},
		{"007", 7, ""},
		{"abc", 0, `"abc" is not a descriptor number`},
		{"abc\n", 0, `"abc" is not a descriptor number`},
		{"", 0, "empty, not a descriptor number"},
		{"\n", 0, "empty, not a descriptor number"},
		{"3\n\n", 0, `"3\n" is not a descriptor number`},
		{" 3", 0, `" 3" is not a descriptor number`},
		{"-3", 0, `"-3" is not a descriptor number`},
		{"0", 0, "descriptor 0 is already ./run's standard input"},
		{"1", 0, "descriptor 1 is already ./run's standard output"},
		{"2\n", 0, "descriptor 2 is already ./run's standard error"},
		{"1024", 0, "descriptor 1024 is beyond ./run's limit of 1024"},
		{"99999999999999999999999", 0, "descriptor 99999999999999999999 is beyond ./run's limit of 1024"},
	} {
		fd, err := Parse([]byte(tc.in), 1024)
		var pe *ParseError
		switch {
		case tc.fail == "" && (err != nil || fd != tc.fd):
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, fd, err, tc.fd)
		case tc.fail != "" && (!errors.As(err, &pe) || pe.Error() != tc.fail):
			t.Errorf("Parse(%q) = %d, %v; want %s", tc.in, fd, err, tc.fail)
		}
	}
}

// scanUntil scans p until it is no longer Waiting, polling its read end.
func scanUntil(t *testing.T, p *Pipe) State {
	t.Helper()
	for {
		fds := []unix.PollFd{{Fd: int32(p.Read), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, int(svtest.Scaled(4*time.Second)/time.Millisecond)); n != 1 {
			t.Fatalf("pipe silent: %v", err)
		}
		if st := p.Scan(); st != Waiting {
			return st
		}
	}
}

// A child writing a line to its descriptor makes the pipe Ready; one that
// exits without a newline leaves it Closed; bytes before the newline, however
// many, are not kept.
func TestPipe(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   State
	}{
		{"echo >&5", Ready},
		{"printf 'starting up' >&5; sleep 0.01; echo ' ready' >&5; exec sleep 30", Ready},
		{"head -c 300000 /dev/zero >&5; echo >&5", Ready},
		{"printf 'no newline' >&5", Closed},
		{"exec 5>&-; sleep 0.01", Closed},
		{"true", Closed},
	} {
		p, err := NewPipe()
		testbin.Must(t, err)
		cmd := exec.Command("sh", "-c", tc.script)
		// The write end at descriptor 5, as the supervisor places it.
		w, err := unix.Dup(p.Write)
		testbin.Must(t, err)
		f := os.NewFile(uintptr(w), "notify")
		cmd.ExtraFiles = []*os.File{nil, nil, f}
		testbin.Must(t, cmd.Start())
		f.Close()
		p.CloseWrite()
		if got := scanUntil(t, &p); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.script, got, tc.want)
		}
		if p.Read != -1 || p.Write != -1 {
			t.Errorf("%s: pipe left open: %+v", tc.script, p)
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// Both ends are closed on exec: no child gets one by accident.
func TestPipeClosedOnExec(t *testing.T) {
	p, err := NewPipe()
	testbin.Must(t, err)
	defer p.Close()
	for _, fd := range []int{p.Read, p.Write} {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("descriptor %d: flags %d, %v", fd, flags, err)
		}
	}
	if fl, _ := unix.FcntlInt(uintptr(p.Write), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Error("./run's end is non-blocking")
	}
	if got := p.Scan(); got != Waiting {
		t.Errorf("fresh pipe: %v", got)
	}
}
