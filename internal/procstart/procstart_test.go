package procstart

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A command name with blanks and parentheses does not shift the fields.
func TestFieldsAfterOddName(t *testing.T) {
	for _, line := range []string{
		"20 (x) R 5) S 30 20 20\n",
		"20 (a (b) c) S 30 20 20\n",
		"20 ()) S 30 20 20\n",
	} {
		f, err := fields([]byte(line))
		if err != nil || len(f) != 4 || string(f[0]) != "S" || string(f[1]) != "30" {
			t.Errorf("fields(%q) = %q, %v", line, f, err)
		}
	}
	if _, err := fields([]byte("20 (x R 5")); !errors.Is(err, ErrFormat) {
		t.Errorf("a line without ')': %v", err)
	}
}

// parse takes state, ppid and start time from a line whatever the command
// name holds, and refuses lines that are not the kernel's.
func TestParse(t *testing.T) {
	tail := " 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 4242 1 2 3\n" // fields 5 to 25
	for _, name := range []string{"(x)", "(x) R 5)", "(a (b) c)", "())", "(sp ace)"} {
		st, err := parse(20, []byte("20 "+name+" S 30"+tail))
		if err != nil || st != (Stat{Pid: 20, PPid: 30, State: 'S', Start: 4242}) {
			t.Errorf("parse with name %q = %+v, %v", name, st, err)
		}
	}
	for _, line := range []string{
		"20 (x R 5",           // no end to the name
		"20 (x) R 30 0 0\n",   // too short
		"20 (x) RS 30" + tail, // a state of two letters
		"20 (x) R -1" + tail,  // a ppid that is not a number
		"20 (x) R 30" + strings.Replace(tail, "4242", "9223372036854775808", 1), // 2^63
	} {
		if st, err := parse(20, []byte(line)); !errors.Is(err, ErrFormat) {
			t.Errorf("parse(%q) = %+v, %v; want ErrFormat", line, st, err)
		}
	}
}

// ReadStat and LastPid, which svscan -1 calls for every start, allocate
// nothing but the file's name.
func TestReadAllocations(t *testing.T) {
	pid := os.Getpid()
	if n := testing.AllocsPerRun(20, func() { ReadStat(pid) }); n > 3 {
		t.Errorf("ReadStat allocates %v times", n)
	}
	if n := testing.AllocsPerRun(20, func() { LastPid() }); n > 1 {
		t.Errorf("LastPid allocates %v times", n)
	}
}

// This process: its parent, a running state, a start before now; a pid
// that does not exist is ESRCH; Of agrees with ReadStat.
func TestReadStat(t *testing.T) {
	st, err := ReadStat(os.Getpid())
	if err != nil || st.PPid != os.Getppid() || st.Gone() || st.Start > Now() {
		t.Fatalf("ReadStat(self) = %+v, %v; ppid %d, now %d", st, err, os.Getppid(), Now())
	}
	if _, err := ReadStat(1 << 30); err != unix.ESRCH {
		t.Errorf("ReadStat of no process: %v", err)
	}
	id, err := Of(os.Getpid())
	if err != nil || id.Ticks != st.Start || id.Boot == ([16]byte{}) {
		t.Errorf("Of(self) = %+v, %v", id, err)
	}
}

// Descendants walks down from the root, parents first, and ends on a loop.
func TestDescendants(t *testing.T) {
	all := []Stat{{Pid: 1}, {Pid: 10, PPid: 1}, {Pid: 11, PPid: 10}, {Pid: 12, PPid: 11}, {Pid: 13, PPid: 1},
		{Pid: 20, PPid: 21}, {Pid: 21, PPid: 20}}
	pids := func(ss []Stat) (p []int) {
		for _, s := range ss {
			p = append(p, s.Pid)
		}
		return p
	}
	for root, want := range map[int][]int{10: {11, 12}, 1: {10, 13, 11, 12}, 12: nil, 20: {21}} {
		if got := pids(Descendants(all, root)); !slices.Equal(got, want) {
			t.Errorf("Descendants(%d) = %v, want %v", root, got, want)
		}
	}
}

// A process forked after a reading of Now and LastPid started after it;
// this one, and one of the same tick with an earlier pid, did not.
func TestStartedAfter(t *testing.T) {
	ticks, last := Now(), LastPid()
	if last == 0 {
		t.Fatal("LastPid: 0")
	}
	cmd := exec.Command("sleep", "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	st, err := ReadStat(cmd.Process.Pid)
	if err != nil || !StartedAfter(st, ticks, last) {
		t.Errorf("forked after (%d, %d): %+v %v", ticks, last, st, err)
	}
	self, _ := ReadStat(os.Getpid())
	if StartedAfter(self, ticks, last) || StartedAfter(Stat{Pid: last, Start: ticks}, ticks, last) {
		t.Errorf("this process, or pid %d of tick %d, started after (%d, %d)", last, ticks, ticks, last)
	}
	if !StartedAfter(Stat{Pid: 1, Start: ticks}, ticks, 0) {
		t.Error("the same tick with no last pid is not after")
	}
	n := pidMax()
	for _, c := range []struct {
		pid, last int
		after     bool
	}{{101, 100, true}, {100, 100, false}, {99, 100, false}, {300, n - 1, true}, {n - 1, 300, false}} {
		if got := PidAfter(c.pid, c.last); got != c.after {
			t.Errorf("PidAfter(%d, %d) = %v with pid_max %d", c.pid, c.last, got, n)
		}
	}
}
