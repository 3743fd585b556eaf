// Package procstart reads what supervisors need to know of processes from
// /proc/PID/stat, the one place that file is parsed: who is whose parent,
// whether a process is a zombie, and when it started.
//
// It tells processes apart over time: a pid is reused once its process is
// gone, but a pid together with the boot it ran in and its start time
// (clock ticks after boot) names one process for good. A supervisor
// records it beside the pid it started, so that a later supervisor adopts
// that process, and never another that got its pid.
package procstart

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
)

// ID is when a process started: the kernel's boot id and its start time
// in clock ticks after that boot. The zero ID is no process.
type ID struct {
	Boot  [16]byte
	Ticks uint64
}

// ErrFormat means a file of /proc is not as the kernel writes it.
var ErrFormat = errors.New("unexpected format in /proc")

// Of returns the ID of the process pid as it is now.
func Of(pid int) (ID, error) {
	boot, err := thisBoot()
	if err != nil {
		return ID{}, err
	}
	st, err := ReadStat(pid)
	if err != nil {
		return ID{}, err
	}
	return ID{Boot: boot, Ticks: st.Start}, nil
}

// Stat is a process as /proc/PID/stat shows it.
type Stat struct {
	Pid, PPid int
	State     byte   // R, S, D, T, Z, X...
	Start     uint64 // start time, in clock ticks since boot
}

// Age is how long ago the process started.
func (s Stat) Age() time.Duration {
	return time.Duration(Now()-min(s.Start, Now())) * (time.Second / ticksPerSecond)
}

// Gone tells whether the process has exited: a zombie, or dead.
func (s Stat) Gone() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat reads /proc/PID/stat. A process that does not exist is
// unix.ESRCH. It allocates nothing but the file's name: svscan -1 reads
// one for every start, and its garbage would stay in the memory of a
// process that may never collect.
func ReadStat(pid int) (Stat, error) {
	var buf [512]byte
	b, err := read(strconv.Itoa(pid), buf[:0])
	if err != nil {
		return Stat{}, err
	}
	return parse(pid, b)
}

// parse reads a stat line: state is field 3, ppid 4, starttime 22 (man 5
// proc).
func parse(pid int, b []byte) (Stat, error) {
	b, err := afterName(b)
	if err != nil {
		return Stat{}, err
	}
	st := Stat{Pid: pid}
	for n := 3; ; n++ {
		var f []byte
		if f, b = field(b); f == nil {
			return Stat{}, ErrFormat
		}
		ok := true
		switch n {
		case 3:
			st.State, ok = f[0], len(f) == 1
		case 4:
			var ppid uint64
			ppid, ok = decimal(f)
			st.PPid = int(ppid)
		case 22:
			st.Start, ok = decimal(f)
			if ok {
				return st, nil
			}
		}
		if !ok {
			return Stat{}, ErrFormat
		}
	}
}

// decimal is the number that b spells in decimal digits, at most 2^63-1.
func decimal(b []byte) (uint64, bool) {
	var v uint64
	for _, c := range b {
		d := uint64(c - '0')
		if c < '0' || c > '9' || v > (1<<63-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, len(b) > 0
}

// Fields reads /proc/PROCESS/stat (PROCESS is a pid or "self") and splits
// it into the fields after the command name: the first is field 3, the
// state (man 5 proc). A process that does not exist is unix.ESRCH.
func Fields(process string) ([][]byte, error) {
	b, err := read(process, nil)
	if err != nil {
		return nil, err
	}
	return fields(b)
}

// read reads /proc/PROCESS/stat into b's room, grown if need be.
func read(process string, b []byte) ([]byte, error) {
	name := "/proc/" + process + "/stat"
	b, err := readFile(name, b)
	switch {
	case err == unix.ENOENT:
		return nil, unix.ESRCH
	case err != nil:
		return nil, &os.PathError{Op: "read", Path: name, Err: err}
	}
	return b, nil
}

// readFile reads a file of /proc into b's room, grown if need be, with
// plain system calls, straight to the kernel (internal/rawsys):
// os.ReadFile's poller set-up costs six more, and a start of ./run waits
// for this one.
func readFile(name string, b []byte) ([]byte, error) {
	fd, err := rawsys.Openat(unix.AT_FDCWD, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer rawsys.Close(fd)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rawsys.Read(fd, b[len(b):cap(b)])
		switch {
		case err == unix.EINTR:
		case err != nil:
			return nil, err
		case n == 0:
			return b, nil
		default:
			b = b[:len(b)+n]
		}
	}
}

// fields splits a stat line after the command name.
func fields(b []byte) ([][]byte, error) {
	b, err := afterName(b)
	if err != nil {
		return nil, err
	}
	var all [][]byte
	for f, rest := field(b); f != nil; f, rest = field(rest) {
		all = append(all, f)
	}
	return all, nil
}

// afterName is what of a stat line follows the command name, which may
// hold blanks and parentheses: the fields start after the last ')'.
func afterName(b []byte) ([]byte, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, ErrFormat
	}
	return b[i+1:], nil
}

// field splits the first field off b, the fields being separated by
// blanks: nil when there is none.
func field(b []byte) (f, rest []byte) {
	i := 0
	for i < len(b) && blank(b[i]) {
		i++
	}
	j := i
	for j < len(b) && !blank(b[j]) {
		j++
	}
	if i == j {
		return nil, nil
	}
	return b[i:j], b[j:]
}

func blank(c byte) bool { return c == ' ' || c == '\n' || c == '\t' }

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
	ts := rawsys.ClockGettime(unix.CLOCK_BOOTTIME)
	return uint64(ts.Sec)*ticksPerSecond + uint64(ts.Nsec)/(1e9/ticksPerSecond)
}

// thisBoot is the boot id, read once: it changes only with a reboot. The
// once is made at the first call, not at every program's start.
func thisBoot() ([16]byte, error) {
	bootOnce.Do(func() { bootOnce.id, bootOnce.err = bootID() })
	return bootOnce.id, bootOnce.err
}

var bootOnce struct {
	sync.Once
	id  [16]byte
	err error
}

// bootID reads the kernel's random id of this boot.
func bootID() ([16]byte, error) {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id, err
	}
	hex := bytes.ReplaceAll(bytes.TrimSpace(b), []byte("-"), nil)
	if len(hex) != 32 {
		return id, ErrFormat
	}
	for i := range id {
		v, err := strconv.ParseUint(string(hex[2*i:2*i+2]), 16, 8)
		if err != nil {
			return id, ErrFormat
		}
		id[i] = byte(v)
	}
	return id, nil
}

// LastPid is the last pid the kernel gave out in this process's pid
// namespace, 0 when it cannot tell: a process forked after the reading
// gets a pid after it (PidAfter). The file stays open (a start of ./run
// waits for this reading): one pread(2) a reading.
func LastPid() int {
	lastPidOnce.Do(func() {
		lastPidOnce.fd, _ = rawsys.Openat(unix.AT_FDCWD, "/proc/sys/kernel/ns_last_pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	})
	if lastPidOnce.fd < 0 {
		return 0
	}
	var buf [32]byte
	n, err := rawsys.Pread(lastPidOnce.fd, buf[:], 0)
	if err != nil {
		return 0
	}
	pid, ok := decimal(bytes.TrimSpace(buf[:n]))
	if !ok {
		return 0
	}
	return int(pid)
}

var lastPidOnce struct {
	sync.Once
	fd int
}

// StartedAfter tells whether the process st started after a moment at
// which Now read ticks and LastPid read last: a process that started
// later has a start no smaller than ticks and, in the same tick, a pid
// given out after last. With last unknown (0), the same tick counts as
// after.
func StartedAfter(st Stat, ticks uint64, last int) bool {
	switch {
	case st.Start != ticks:
		return st.Start > ticks
	case last == 0:
		return true
	}
	return PidAfter(st.Pid, last)
}

// PidAfter tells whether pid was given out after last: pids go up to
// pid_max and start again from the bottom, so "after" is up to half the
// range ahead.
func PidAfter(pid, last int) bool {
	n := pidMax()
	d := ((pid-last)%n + n) % n
	return d > 0 && d < n/2
}

// pidMax is the kernel's pid_max, read once; its largest value when it
// cannot be read.
func pidMax() int {
	pidMaxOnce.Do(func() {
		pidMaxOnce.n = 1 << 22
		if b, err := readFile("/proc/sys/kernel/pid_max", nil); err == nil {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(b))); err == nil && n > 0 {
				pidMaxOnce.n = n
			}
		}
	})
	return pidMaxOnce.n
}

var pidMaxOnce struct {
	sync.Once
	n int
}

// Mark is the moment now as StartedAfter compares it: this boot and the
// boot clock, and the last pid given out (read in that order, so that a
// process forked earlier fails StartedAfter, one forked later passes).
func Mark() (ID, int, error) {
	boot, err := thisBoot()
	if err != nil {
		return ID{}, 0, err
	}
	now := Now()
	return ID{Boot: boot, Ticks: now}, LastPid(), nil
}
