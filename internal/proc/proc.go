// Package proc reads what supervise needs to know of processes from /proc:
// who is whose parent, whether a process is a zombie, and when it started,
// so that a pid can be told from an unrelated process that reused it.
package proc

import (
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
)

// Stat is a process as /proc/PID/stat shows it.
type Stat struct {
	Pid, PPid int
	State     byte   // R, S, D, T, Z, X...
	Start     uint64 // start time, in clock ticks since boot
}

// Gone tells whether the process has exited: a zombie, or dead.
func (s Stat) Gone() bool { return s.State == 'Z' || s.State == 'X' }

// ErrFormat is a /proc/PID/stat this package cannot read.
var ErrFormat error = strerr.Text("unreadable /proc stat")

// ReadStat reads /proc/PID/stat. A process that does not exist is
// unix.ESRCH.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if os.IsNotExist(err) {
			return Stat{}, unix.ESRCH
		}
		return Stat{}, err
	}
	return parse(pid, b)
}

// parse reads a stat line. The command name may hold blanks and
// parentheses: the fields start after the last ')'.
func parse(pid int, b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, ErrFormat
	}
	f := bytes.Fields(b[i+1:])
	// state is field 3, ppid 4, starttime 22 (man 5 proc); f starts at 3.
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, ErrFormat
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	start, err2 := strconv.ParseUint(string(f[19]), 10, 64)
	if err1 != nil || err2 != nil {
		return Stat{}, ErrFormat
	}
	return Stat{Pid: pid, PPid: ppid, State: f[0][0], Start: start}, nil
}

// All reads every process there is; those that exit meanwhile are left
// out.
func All() ([]Stat, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var all []Stat
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if s, err := ReadStat(pid); err == nil {
			all = append(all, s)
		}
	}
	return all, nil
}

// Descendants lists the processes of all that descend from root, root
// itself left out, parents before their children.
func Descendants(all []Stat, root int) []Stat {
	children := map[int][]Stat{}
	for _, s := range all {
		children[s.PPid] = append(children[s.PPid], s)
	}
	var out []Stat
	queue := []int{root}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			if c.Pid != root {
				out = append(out, c)
				queue = append(queue, c.Pid)
			}
		}
		queue = queue[1:]
	}
	return out
}

// ticksPerSecond is USER_HZ, the unit of /proc's times: 100 on every
// architecture Go runs on but alpha.
const ticksPerSecond = 100

// Now is the boot clock, the clock of Stat.Start, in clock ticks: a
// process started after a reading of Now has a Start no smaller.
func Now() uint64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return uint64(ts.Sec)*ticksPerSecond + uint64(ts.Nsec)/(1e9/ticksPerSecond)
}
