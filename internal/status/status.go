// Package status encodes and decodes supervise/status, the binary record
// through which supervise tells svstat (and every other daemontools reader)
// what its service is doing. It is the only place that knows the layout.
//
// The first Size bytes are daemontools 0.76's record: a TAI64N label of the
// last change of pid, the pid (little-endian, 0 when down), the paused flag
// and the wanted state. daemontools' readers use those bytes and ignore
// anything after them; runit's (sv, node_exporter's runit collector) read
// RunitSize bytes, the next two being runsv's "stop signal sent" flag and
// its state (down, run, finish). Ours follow them (see Append): one
// versioned layout of what we know besides.
package status

import (
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"daemontools/internal/procstart"
	"daemontools/internal/rawsys"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Size is the length of daemontools' record, the bytes every reader needs.
const Size = 18

// RunitSize is the length of runsv's record, which runit's readers need:
// daemontools' bytes, then byte 18, 1 while a stop signal has been sent and
// the process has not exited yet, and byte 19, runitDown, runitRun or
// runitFinish.
const RunitSize = 20

// runsv's states, byte 19.
const (
	runitDown   = 0
	runitRun    = 1
	runitFinish = 2
)

// What the service is wanted to do, as stored in byte 17.
const (
	WantNone = 0   // svc -o: run once, no preference
	WantUp   = 'u' // restart whenever it exits
	WantDown = 'd' // stay down
)

// State is daemontools-encore's numbering of a service's state (byte 37).
type State byte

const (
	Stopped  State = 0 // down
	Starting State = 1 // up, not yet ready
	Started  State = 2 // encore's start script done; unused here
	Running  State = 3 // up (and ready, when it has readiness)
	Stopping State = 4 // sent its down signal, not yet exited; or finishing
	Failed   State = 5 // down for good: ./finish exited 125
)

var stateNames = [...]string{"stopped", "starting", "started", "running", "stopping", "failed"}

// StateName is the state's name in svstat -j; Finishing is reported as
// "finishing" rather than as encore's "stopping", a stopped service
// waiting for the services it needs as "waiting", a one-shot task that
// succeeded as "done".
func (s Status) StateName() string {
	switch {
	case s.Finishing:
		return "finishing"
	case s.Done && s.State == Stopped:
		return "done"
	case s.Waiting != "" && s.State == Stopped:
		return "waiting"
	}
	if int(s.State) < len(stateNames) {
		return stateNames[s.State]
	}
	return "unknown"
}

// Version is the layout of our bytes that Append writes. DecodeAll also
// reads versions 1 to 5 (see below), so that a supervise upgraded in place
// still adopts its service.
const Version = 6

// Layout of version 6, after runit's bytes (multi-byte numbers are
// little-endian, times TAI64N labels, zero when there is none):
//
//	20     layout version, 6
//	21     flags (flag*)
//	22-33  ready since
//	34-35  last exit code of ./run; 256 when a signal killed it
//	36     the signal that killed it, else 0
//	37     state (State)
//	38-41  restarts: starts of ./run since supervise began, less one
//	42-53  when the next start is due
//	54-69  the kernel's boot id when the process of the pid started (with
//	       no pid: of ./finish while it runs, of ./run while its daemon is
//	       awaited)
//	70-77  its start time, clock ticks after boot (/proc/PID/stat); zero
//	       with the boot id when there is no such process or it is not known
//	78     more flags (flag2*)
//	79     health (Health)
//	80-91  when the stop of the process of the pid began (its down signal)
//	92-95  pid of ./finish while it runs, else 0
//	96-97  length of the last start error
//	98-99  length of the status text
//	100-101 failed probes in a row
//	102-103 length of the latest probe's line
//	104-105 length of the line of the probe that stopped the last run
//	106-107 length of the names of the services waited for
//	108-   the last start error, the status text, the two probe lines,
//	       then the names waited for, each followed by a NUL
//
// Version 5 ends at byte 105, its strings after it, with no names.
// Version 4 ends at byte 99 (79 is 0, no health), its strings after it.
// Version 3 ends at byte 79, bytes 78-79 being the status text's length.
// Version 2 had the state at byte 18, a newline at 19 and 0 at 37; version
// 1 is version 2 without bytes 54-77: its text length is at 54-55.
const (
	extSize   = 108 - Size
	extSizeV5 = 106 - Size
	extSizeV4 = 100 - Size
	extSizeV3 = 80 - Size
	extSizeV1 = 56 - Size

	flag2AwaitingDaemon = 1 // ./run exited 0 and the daemon its pidfile names is awaited
	flag2Unhealthy      = 2 // the last exit followed a stop by the health probes
	flag2Done           = 4 // a one-shot task whose ./run exited 0

	flagFinishing   = 1   // ./finish runs
	flagReadiness   = 2   // the service has a readiness mechanism
	flagReady       = 4   // and said it is ready since its latest start
	flagExited      = 8   // ./run has exited at least once
	flagExitUnknown = 16  // its exit status could not be had
	flagFromPidfile = 32  // Pid is a daemon's, named by the service's pidfile
	flagWatchdog    = 64  // the last exit followed a stop by the watchdog
	flagFromMainpid = 128 // Pid is a daemon's, named by MAINPID= on the notify socket
)

// Health is what a service's health probes say (byte 79).
type Health byte

const (
	HealthNone      Health = 0 // the service has no probe
	HealthUnknown   Health = 1 // no probe has passed since the latest start, none failed past the grace
	HealthHealthy   Health = 2 // the latest probe passed
	HealthUnhealthy Health = 3 // the latest probe failed, past the grace
)

var healthNames = [...]string{"", "unknown", "healthy", "unhealthy"}

// Name is the health's name in svstat -j and -l; "" for HealthNone.
func (h Health) Name() string { return healthNames[h] }

// Errors of DecodeAll.
var (
	// ErrBadFormat means the record is shorter than Size bytes.
	ErrBadFormat = errors.New("bad format")
	// ErrNoExtension means the record is daemontools' alone, as its own
	// supervise writes it.
	ErrNoExtension error = strerr.Text("no extended status (written by another supervise)")
)

// ExtensionError is a record whose bytes after Size are not ours.
type ExtensionError struct{ Why string }

func (e *ExtensionError) Error() string { return "unknown extended status: " + e.Why }

// Status is one supervise/status record.
type Status struct {
	Since  tai64.Label // when Pid last changed
	Pid    int         // pid of ./run, 0 when the service is down
	Paused bool        // stopped by svc -p; meaningful only while Pid != 0
	Want   byte        // WantUp, WantDown or WantNone

	// runit's: a stop signal was sent and Pid has not exited yet (byte
	// 18; byte 19 follows from Pid and Finishing).
	StopSent bool

	// Ours, after runit's bytes.
	State     State
	Finishing bool        // ./finish runs (State is Stopping)
	Readiness bool        // the service has notification-fd or notify-socket
	Ready     tai64.Label // since when it is ready; zero when not
	Exited    bool        // ./run has exited since supervise began
	LastExit  Exit        // how, when Exited
	Restarts  uint32
	NextStart tai64.Label  // when the next start is due; zero for none
	Start     procstart.ID // when the process of Pid started; zero when unknown
	Text      string       // what the service last said of itself (sd_notify STATUS=)
	// FromPidfile: Pid is not ./run's but that of the daemon it forked,
	// named by the service's pidfile.
	FromPidfile bool
	// FromMainpid: Pid is not ./run's but that of the process a MAINPID=
	// on the notify socket named.
	FromMainpid bool
	// AwaitingDaemon: ./run exited 0 and the daemon its pidfile names is
	// awaited; Start is ./run's.
	AwaitingDaemon bool
	StopSince      tai64.Label // when the stop of Pid began; zero for none
	FinishPid      int         // ./finish's pid while it runs (Start is its start), else 0
	StartError     string      // why the latest start of ./run failed; empty when it did not
	Health         Health      // what the health probes say
	Failures       uint16      // failed probes in a row, past the grace
	Probe          string      // the latest probe's first line of output (or what became of it)
	// Waiting: the names of the services (needs/) the service waits
	// for before ./run starts, each followed by a NUL (WaitingFor);
	// State is Stopped. A string, so that records compare with ==.
	Waiting string
	// Done: a one-shot task (oneshot) whose ./run exited 0 and is not
	// run again until asked; State is Stopped.
	Done bool
}

// Exit is how ./run last ended.
type Exit struct {
	Code     int  // exit code, 256 when killed by a signal
	Signal   int  // the signal that killed it, else 0
	Unknown  bool // the status could not be had
	Watchdog bool // it came of a stop by the watchdog: no WATCHDOG=1 in time
	// Unhealthy: it came of a stop by the health probes, the last of
	// which said Probe.
	Unhealthy bool
	Probe     string
}

// Append appends the encoded record to b. Paused is written as 0 while the
// service is down, as daemontools does.
func (s Status) Append(b []byte) []byte {
	var r [Size + extSize]byte
	s.Since.Pack(r[0:12])
	put32(r[12:16], uint32(s.Pid))
	if s.Pid != 0 && s.Paused {
		r[16] = 1
	}
	r[17] = s.Want
	if s.StopSent {
		r[18] = 1
	}
	r[19] = s.runitState()
	r[20] = Version
	var flags byte
	if s.Finishing {
		flags |= flagFinishing
	}
	if s.Readiness {
		flags |= flagReadiness
	}
	if s.FromPidfile {
		flags |= flagFromPidfile
	}
	if s.FromMainpid {
		flags |= flagFromMainpid
	}
	if s.Ready != (tai64.Label{}) {
		flags |= flagReady
		s.Ready.Pack(r[22:34])
	}
	if e := s.LastExit; s.Exited {
		flags |= flagExited
		if e.Unknown {
			flags |= flagExitUnknown
		}
		if e.Watchdog {
			flags |= flagWatchdog
		}
		if e.Unhealthy {
			r[78] |= flag2Unhealthy
		}
		r[34], r[35] = byte(e.Code), byte(e.Code>>8)
		r[36] = byte(e.Signal)
	}
	r[21] = flags
	r[37] = byte(s.State)
	put32(r[38:42], s.Restarts)
	if s.NextStart != (tai64.Label{}) {
		s.NextStart.Pack(r[42:54])
	}
	putID(r[54:78], s.Start)
	if s.AwaitingDaemon {
		r[78] |= flag2AwaitingDaemon
	}
	if s.Done {
		r[78] |= flag2Done
	}
	r[79] = byte(s.Health)
	if s.StopSince != (tai64.Label{}) {
		s.StopSince.Pack(r[80:92])
	}
	put32(r[92:96], uint32(s.FinishPid))
	why := s.StartError[:min(len(s.StartError), 0xffff)]
	r[96], r[97] = byte(len(why)), byte(len(why)>>8)
	text := s.Text[:min(len(s.Text), 0xffff)]
	r[98], r[99] = byte(len(text)), byte(len(text)>>8)
	r[100], r[101] = byte(s.Failures), byte(s.Failures>>8)
	probe := s.Probe[:min(len(s.Probe), 0xffff)]
	r[102], r[103] = byte(len(probe)), byte(len(probe)>>8)
	var stopProbe string
	if s.Exited && s.LastExit.Unhealthy {
		stopProbe = s.LastExit.Probe[:min(len(s.LastExit.Probe), 0xffff)]
	}
	r[104], r[105] = byte(len(stopProbe)), byte(len(stopProbe)>>8)
	waiting := s.Waiting
	if len(waiting) > 0xffff {
		waiting = waiting[:strings.LastIndexByte(waiting[:0xffff], 0)+1]
	}
	r[106], r[107] = byte(len(waiting)), byte(len(waiting)>>8)
	b = append(append(append(b, r[:]...), why...), text...)
	return append(append(append(b, probe...), stopProbe...), waiting...)
}

// WaitingFor is the names of the services waited for.
func (s Status) WaitingFor() []string {
	if s.Waiting == "" {
		return nil
	}
	return strings.Split(s.Waiting[:len(s.Waiting)-1], "\x00")
}

// WaitingString is what Waiting holds for names.
func WaitingString(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return strings.Join(names, "\x00") + "\x00"
}

// runitState is byte 19: what runsv would say of the service.
func (s Status) runitState() byte {
	switch {
	case s.Finishing:
		return runitFinish
	case s.Pid != 0:
		return runitRun
	}
	return runitDown
}

// decode reads daemontools' record from the first Size bytes and ignores
// the rest. Like daemontools' svstat it accepts any bytes of the right
// length: only a short record is ErrBadFormat.
func decode(b []byte) (Status, error) {
	if len(b) < Size {
		return Status{}, ErrBadFormat
	}
	return Status{
		Since:  tai64.Unpack(b[0:12]),
		Pid:    int(get32(b[12:16])),
		Paused: b[16] != 0,
		Want:   b[17],
	}, nil
}

// DecodeAll reads the whole record. Past a short record (ErrBadFormat) the
// result always holds daemontools' fields, even when the error is
// ErrNoExtension or an *ExtensionError; State is then guessed from them,
// and from runit's bytes when the record has them.
func DecodeAll(b []byte) (Status, error) {
	s, err := decode(b)
	if err != nil {
		return s, err
	}
	if s.Pid != 0 {
		s.State = Running // until the record says otherwise
	}
	ext := b[Size:]
	switch {
	case len(ext) == 0:
		return s, ErrNoExtension
	case len(ext) >= 2 && ext[1] == '\n':
		return decodeV2(s, b)
	case len(ext) < 2 || ext[0] > 1 || ext[1] > runitFinish:
		return s, &ExtensionError{strconv.Itoa(len(ext)) + " bytes after daemontools' record"}
	}
	// runit's bytes: whoever wrote them, they say this much.
	s.StopSent, s.Finishing = ext[0] == 1, ext[1] == runitFinish
	if s.Finishing || s.StopSent && s.Pid != 0 {
		s.State = Stopping
	}
	switch {
	case len(ext) == 2:
		return s, ErrNoExtension // runsv's record
	case ext[2] != Version && ext[2] != 5 && ext[2] != 4 && ext[2] != 3:
		return s, &ExtensionError{"layout version " + strconv.Itoa(int(ext[2]))}
	case ext[2] == 3 && len(ext) >= extSizeV3 && ext[1] == s.runitState() && s.Finishing == (b[21]&flagFinishing != 0):
		return decodeOurs(s, b, extSizeV3, b[37])
	case ext[2] == 4 && len(ext) >= extSizeV4:
		return decodeOurs(s, b, extSizeV4, b[37])
	case ext[2] == 5 && len(ext) >= extSizeV5 && ext[1] == s.runitState() && s.Finishing == (b[21]&flagFinishing != 0):
		return decodeOurs(s, b, extSizeV5, b[37])
	case len(ext) < extSize:
		return s, &ExtensionError{"version " + strconv.Itoa(int(ext[2])) + " record cut short"}
	case ext[1] != s.runitState() || s.Finishing != (b[21]&flagFinishing != 0):
		return s, &ExtensionError{"runit state " + strconv.Itoa(int(ext[1])) + " with pid " +
			strconv.Itoa(s.Pid) + " and flags " + strconv.Itoa(int(b[21]))}
	}
	return decodeOurs(s, b, extSize, b[37])
}

// decodeV2 reads a record of version 1 or 2.
func decodeV2(s Status, b []byte) (Status, error) {
	ext := b[Size:]
	size := extSizeV3
	switch {
	case len(ext) < 3:
		return s, &ExtensionError{strconv.Itoa(len(ext)) + " bytes after daemontools' record"}
	case ext[2] == 1:
		size = extSizeV1
	case ext[2] != 2:
		return s, &ExtensionError{"layout version " + strconv.Itoa(int(ext[2]))}
	}
	if len(ext) < size {
		return s, &ExtensionError{"version " + strconv.Itoa(int(ext[2])) + " record cut short"}
	}
	return decodeOurs(s, b, size, b[18])
}

// decodeOurs reads our layout of size bytes after daemontools' record
// (extSize, extSizeV5, extSizeV4, extSizeV3 or extSizeV1), and state,
// into s.
func decodeOurs(s Status, b []byte, size int, state byte) (Status, error) {
	ext := b[Size:]
	get16 := func(at int) int { return int(b[at]) | int(b[at+1])<<8 }
	textLen := get16(Size + size - 2)
	whyLen, probeLen, stopProbeLen, waitingLen := 0, 0, 0, 0
	switch size {
	case extSize:
		waitingLen = get16(106)
		fallthrough
	case extSizeV5:
		textLen, whyLen, probeLen, stopProbeLen = get16(98), get16(96), get16(102), get16(104)
	case extSizeV4:
		whyLen = get16(96)
	}
	flags2 := byte(flag2AwaitingDaemon)
	switch size {
	case extSize:
		flags2 |= flag2Unhealthy | flag2Done
	case extSizeV5:
		flags2 |= flag2Unhealthy
	}
	withHealth := size == extSize || size == extSizeV5
	switch {
	case len(ext) != size+whyLen+textLen+probeLen+stopProbeLen+waitingLen:
		return s, &ExtensionError{"status text of the wrong length"}
	case int(state) >= len(stateNames):
		return s, &ExtensionError{"state " + strconv.Itoa(int(state))}
	case size >= extSizeV4 && b[78]&^flags2 != 0:
		return s, &ExtensionError{"more flags " + strconv.Itoa(int(b[78]))}
	case size >= extSizeV4 && int(b[79]) >= len(healthNames) || size == extSizeV4 && b[79] != 0:
		return s, &ExtensionError{"health " + strconv.Itoa(int(b[79]))}
	case withHealth && (b[78]&flag2Unhealthy == 0 && stopProbeLen > 0 || b[78]&flag2Unhealthy != 0 && b[21]&flagExited == 0):
		return s, &ExtensionError{"unhealthy stop without an exit"}
	case waitingLen > 0 && b[Size+size+whyLen+textLen+probeLen+stopProbeLen+waitingLen-1] != 0:
		return s, &ExtensionError{"names waited for without their end"}
	}
	flags := b[21]
	s.State = State(state)
	s.Finishing = flags&flagFinishing != 0
	s.Readiness = flags&flagReadiness != 0
	s.FromPidfile = flags&flagFromPidfile != 0
	s.FromMainpid = flags&flagFromMainpid != 0
	if flags&flagReady != 0 {
		s.Ready = tai64.Unpack(b[22:34])
	}
	if flags&flagExited != 0 {
		s.Exited = true
		s.LastExit = Exit{Code: int(b[34]) | int(b[35])<<8, Signal: int(b[36]),
			Unknown: flags&flagExitUnknown != 0, Watchdog: flags&flagWatchdog != 0}
	}
	s.Restarts = get32(b[38:42])
	if l := tai64.Unpack(b[42:54]); l != (tai64.Label{}) {
		s.NextStart = l
	}
	if size != extSizeV1 {
		s.Start = getID(b[54:78])
	}
	if size >= extSizeV4 {
		s.AwaitingDaemon = b[78]&flag2AwaitingDaemon != 0
		if l := tai64.Unpack(b[80:92]); l != (tai64.Label{}) {
			s.StopSince = l
		}
		s.FinishPid = int(get32(b[92:96]))
	}
	strs := b[Size+size:]
	s.StartError, strs = string(strs[:whyLen]), strs[whyLen:]
	s.Text, strs = string(strs[:textLen]), strs[textLen:]
	if withHealth {
		s.Health, s.Failures = Health(b[79]), uint16(get16(100))
		s.Probe, strs = string(strs[:probeLen]), strs[probeLen:]
		if s.Exited && b[78]&flag2Unhealthy != 0 {
			s.LastExit.Unhealthy, s.LastExit.Probe = true, string(strs[:stopProbeLen])
		}
		strs = strs[stopProbeLen:]
	}
	s.Done = size == extSize && b[78]&flag2Done != 0
	s.Waiting = string(strs)
	return s, nil
}

func put32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}
func get32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// putID packs a process's start into b's 24 bytes, as the record and the
// mark hold it: the boot id (16), then clock ticks after boot (8,
// little-endian). getID unpacks it.
func putID(b []byte, id procstart.ID) {
	copy(b[0:16], id.Boot[:])
	put32(b[16:20], uint32(id.Ticks))
	put32(b[20:24], uint32(id.Ticks>>32))
}

func getID(b []byte) procstart.ID {
	var id procstart.ID
	copy(id.Boot[:], b[0:16])
	id.Ticks = uint64(get32(b[16:20])) | uint64(get32(b[20:24]))<<32
	return id
}

// File is the record's name, relative to a service directory.
const File = "supervise/status"

// Write replaces the record in the service directory dir (a descriptor)
// atomically: it writes File.new (mode 0644) and renames it over File, so
// readers never see half a record. A failure is a *WriteError naming the
// step.
func Write(dir int, s Status) error {
	return replace(dir, File, s.Append(make([]byte, 0, Size+extSize+len(s.StartError)+len(s.Text))))
}

// replace replaces file, relative to dir, with b as Write does.
func replace(dir int, file string, b []byte) error {
	tmp := file + ".new"
	fd, err := rawsys.Openat(dir, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &WriteError{Op: "open", File: tmp, Err: err}
	}
	n, err := rawsys.Write(fd, b)
	rawsys.Close(fd)
	if err != nil {
		return &WriteError{Op: "write", File: tmp, Err: err}
	}
	if n < len(b) {
		return &WriteError{Op: "write", File: tmp, Err: ErrPartialWrite}
	}
	if err := rawsys.Renameat(dir, tmp, dir, file); err != nil {
		return &WriteError{Op: "rename", File: tmp, Err: err}
	}
	return nil
}

// ErrPartialWrite means fewer bytes than written reached the file.
var ErrPartialWrite error = strerr.Text("partial write")

// WriteError is a failure of Write or WriteRunit: Op is "open", "write"
// or "rename", File the file written (FILE.new), which is renamed to
// Target.
type WriteError struct {
	Op   string
	File string
	Err  error
}

// Target is the name the file is renamed to, without its directory.
func (e *WriteError) Target() string {
	return strings.TrimSuffix(e.File[strings.LastIndexByte(e.File, '/')+1:], ".new")
}

func (e *WriteError) Error() string { return e.Op + " " + e.File + ": " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }
