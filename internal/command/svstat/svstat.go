// Package svstat is the program svstat, which prints one line of status for
// each service directory given, in daemontools' words, and always exits 0
// once it has started. svstat -l adds what our supervise records besides;
// svstat -j prints one JSON object per directory.
package svstat

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"daemontools/internal/control"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	orig, err := syscall.Open(".", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return strerr.Fatal("unable to open current directory: ", err)
	}
	form := plainForm
	if len(args) > 1 && (args[1] == "-l" || args[1] == "-j") {
		form, args = args[1], args[1:]
	}
	out := bufio.NewWriter(stdout)
	now := tai64.Now()
	for _, dir := range args[1:] {
		r := look(dir)
		switch form {
		case plainForm:
			out.WriteString(dir + ": " + r.plain(now) + "\n")
		case longForm:
			out.WriteString(dir + ": " + r.long(now) + "\n")
		case jsonForm:
			out.Write(r.json(dir, now))
			out.WriteString("\n")
		}
		if err := syscall.Fchdir(orig); err != nil {
			out.Flush()
			return strerr.Fatal("unable to set directory: ", err)
		}
	}
	out.Flush() // like daemontools, which always exits 0 once under way
	return nil
}

// The forms of output: daemontools' line, ours with more after it, JSON.
const (
	plainForm = ""
	longForm  = "-l"
	jsonForm  = "-j"
)

// report is what svstat found in one directory.
type report struct {
	problem    string // daemontools' words for why there is no record, else ""
	supervised bool   // supervise/ok has a reader
	normallyUp bool
	status     status.Status // daemontools' fields, and ours when extErr is nil
	extErr     error         // why our fields are unknown
}

// look reads what there is to know of dir, in the order daemontools'
// svstat does. It changes the working directory.
func look(dir string) report {
	if err := syscall.Chdir(dir); err != nil {
		return report{problem: "unable to chdir: " + strerr.Reason(err)}
	}
	var r report
	var st syscall.Stat_t
	if err := syscall.Stat("down", &st); err == syscall.ENOENT {
		r.normallyUp = true
	} else if err != nil {
		return report{problem: "unable to stat down: " + strerr.Reason(err)}
	}
	running, err := control.Running(".")
	if err != nil {
		r.problem = "unable to open " + control.OkFile + ": " + strerr.Reason(err)
		return r
	}
	if !running {
		r.problem = "supervise not running"
		return r
	}
	r.supervised = true
	r.status, err = status.ReadAll(status.File)
	var failed *status.ReadError
	switch {
	case errors.As(err, &failed):
		r.problem = "unable to " + failed.Op + " " + status.File + ": " + strerr.Reason(failed.Err)
	case err == status.ErrBadFormat:
		r.problem = "unable to read " + status.File + ": bad format"
	default:
		r.extErr = err
	}
	return r
}

// plain is daemontools' words after "DIR: ".
func (r report) plain(now tai64.Label) string {
	if r.problem != "" {
		return r.problem
	}
	return line(r.status, r.normallyUp, now)
}

// long is plain with what else we know.
func (r report) long(now tai64.Label) string {
	b := []byte(r.plain(now))
	if r.problem != "" {
		return string(b)
	}
	if r.extErr != nil {
		return string(b) + "; " + r.extErr.Error()
	}
	s := r.status
	switch {
	case s.Finishing:
		b = append(b, ", finishing"...)
	case s.State != status.Running && s.State != status.Stopped:
		b = append(b, ", "+s.StateName()...)
	}
	if s.FromPidfile {
		b = append(b, ", pid from pidfile"...)
	}
	if s.FromMainpid {
		b = append(b, ", pid from MAINPID"...)
	}
	if s.Readiness {
		if s.Ready != (tai64.Label{}) {
			b = append(b, ", ready "...)
			b = strconv.AppendUint(b, secondsSince(s.Ready, now), 10)
			b = append(b, " seconds"...)
		} else if s.Pid != 0 {
			b = append(b, ", not ready"...)
		}
	}
	b = append(b, ", "...)
	b = strconv.AppendUint(b, uint64(s.Restarts), 10)
	b = append(b, " restart"...)
	if s.Restarts != 1 {
		b = append(b, 's')
	}
	if s.Exited {
		b = append(b, ", last "...)
		b = append(b, exitWords(s.LastExit)...)
	}
	if s.NextStart != (tai64.Label{}) {
		b = append(b, ", next start in "...)
		b = strconv.AppendUint(b, secondsUntil(s.NextStart, now), 10)
		b = append(b, " seconds"...)
	}
	if s.Text != "" {
		b = append(b, ", status: "...)
		b = append(b, strings.ToValidUTF8(strings.ReplaceAll(s.Text, "\n", " "), "?")...)
	}
	return string(b)
}

// exitWords says how ./run last ended.
func exitWords(e status.Exit) string {
	switch {
	case e.Unknown:
		return "exit unknown"
	case e.Code == 256 && e.Watchdog:
		return "killed by " + signalName(e.Signal) + " after the watchdog's timeout"
	case e.Code == 256:
		return "killed by " + signalName(e.Signal)
	case e.Watchdog:
		return "exit " + strconv.Itoa(e.Code) + " after the watchdog's timeout"
	}
	return "exit " + strconv.Itoa(e.Code)
}

// signalName is SIGKILL for 9, or the number when it has no name.
func signalName(n int) string {
	if name := unix.SignalName(syscall.Signal(n)); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(n)
}

// jsonStatus is svstat -j's object; null stands for what is unknown. The
// tags say how encode names the fields.
type jsonStatus struct {
	Service          string  `json:"service"`
	Supervised       bool    `json:"supervised"`
	Up               bool    `json:"up"`
	Pid              int     `json:"pid"`
	Seconds          *uint64 `json:"seconds"`
	NormallyUp       bool    `json:"normally_up"`
	Paused           bool    `json:"paused"`
	Want             string  `json:"want"`
	State            *string `json:"state"`
	Ready            *bool   `json:"ready"`
	ReadySeconds     *uint64 `json:"ready_seconds"`
	Restarts         *uint32 `json:"restarts"`
	ExitCode         *int    `json:"exit_code"`
	ExitSignal       *int    `json:"exit_signal"`
	ExitWatchdog     *bool   `json:"exit_watchdog"`
	StatusText       *string `json:"status_text"`
	NextStartSeconds *uint64 `json:"next_start_seconds"`
	PidFromPidfile   *bool   `json:"pid_from_pidfile"`
	PidFromMainpid   *bool   `json:"pid_from_mainpid"`
	Error            string  `json:"error,omitempty"`
}

func (r report) json(dir string, now tai64.Label) []byte {
	j := jsonStatus{Service: dir, Supervised: r.supervised, NormallyUp: r.normallyUp, Error: r.problem}
	if r.problem == "" {
		s := r.status
		j.Up, j.Pid, j.Paused = s.Pid != 0, s.Pid, s.Pid != 0 && s.Paused
		j.Seconds = ptr(secondsSince(s.Since, now))
		j.Want = map[byte]string{status.WantUp: "up", status.WantDown: "down"}[s.Want]
		j.State = ptr(s.StateName())
		if r.extErr != nil {
			j.Error = r.extErr.Error()
		} else {
			j.Restarts = ptr(s.Restarts)
			j.PidFromPidfile = ptr(s.FromPidfile)
			j.PidFromMainpid = ptr(s.FromMainpid)
			if s.Readiness {
				j.Ready = ptr(s.Ready != (tai64.Label{}))
				if *j.Ready {
					j.ReadySeconds = ptr(secondsSince(s.Ready, now))
				}
			}
			if s.Exited && !s.LastExit.Unknown {
				j.ExitCode, j.ExitSignal = ptr(s.LastExit.Code), ptr(s.LastExit.Signal)
			}
			if s.Exited {
				j.ExitWatchdog = ptr(s.LastExit.Watchdog)
			}
			if s.Text != "" {
				j.StatusText = ptr(s.Text)
			}
			if s.NextStart != (tai64.Label{}) {
				j.NextStartSeconds = ptr(secondsUntil(s.NextStart, now))
			}
		}
	}
	return j.encode()
}

// encode is j as encoding/json's Marshal writes it, byte for byte (a test
// holds the two equal), written by hand: that package's start-up, in the
// one executable, cost every program about 15 page faults.
func (j *jsonStatus) encode() []byte {
	b := []byte{'{'}
	b = appendString(field(b, "service"), j.Service)
	b = strconv.AppendBool(field(b, "supervised"), j.Supervised)
	b = strconv.AppendBool(field(b, "up"), j.Up)
	b = appendInt(field(b, "pid"), j.Pid)
	b = orNull(field(b, "seconds"), j.Seconds, appendUint)
	b = strconv.AppendBool(field(b, "normally_up"), j.NormallyUp)
	b = strconv.AppendBool(field(b, "paused"), j.Paused)
	b = appendString(field(b, "want"), j.Want)
	b = orNull(field(b, "state"), j.State, appendString)
	b = orNull(field(b, "ready"), j.Ready, strconv.AppendBool)
	b = orNull(field(b, "ready_seconds"), j.ReadySeconds, appendUint)
	b = orNull(field(b, "restarts"), j.Restarts, appendUint)
	b = orNull(field(b, "exit_code"), j.ExitCode, appendInt)
	b = orNull(field(b, "exit_signal"), j.ExitSignal, appendInt)
	b = orNull(field(b, "exit_watchdog"), j.ExitWatchdog, strconv.AppendBool)
	b = orNull(field(b, "status_text"), j.StatusText, appendString)
	b = orNull(field(b, "next_start_seconds"), j.NextStartSeconds, appendUint)
	b = orNull(field(b, "pid_from_pidfile"), j.PidFromPidfile, strconv.AppendBool)
	b = orNull(field(b, "pid_from_mainpid"), j.PidFromMainpid, strconv.AppendBool)
	if j.Error != "" {
		b = appendString(field(b, "error"), j.Error)
	}
	return append(b, '}')
}

// field starts the member name of the object being written into b.
func field(b []byte, name string) []byte {
	if len(b) > 1 {
		b = append(b, ',')
	}
	return append(append(append(b, '"'), name...), '"', ':')
}

// orNull appends *v as put writes it, or null.
func orNull[T any](b []byte, v *T, put func([]byte, T) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return put(b, *v)
}

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

func appendUint[T uint32 | uint64](b []byte, v T) []byte { return strconv.AppendUint(b, uint64(v), 10) }

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it: quote, backslash and control characters, <, > and & (for
// HTML), U+2028 and U+2029 (for JavaScript); invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '<', '>', '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				if c < 0x20 {
					b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
				} else {
					b = append(b, c)
				}
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028', r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func ptr[T any](v T) *T { return &v }

// secondsSince is how many whole seconds before now l was; 0 for a future l.
func secondsSince(l, now tai64.Label) uint64 {
	if now.Sec > l.Sec {
		return now.Sec - l.Sec
	}
	return 0
}

// secondsUntil is how many seconds, rounded up, after now l is.
func secondsUntil(l, now tai64.Label) uint64 {
	if l.Sec < now.Sec || l.Sec == now.Sec && l.Nano <= now.Nano {
		return 0
	}
	n := l.Sec - now.Sec
	if l.Nano > now.Nano {
		n++
	}
	return n
}

// line words status s as svstat does at time now.
func line(s status.Status, normallyUp bool, now tai64.Label) string {
	var b []byte
	if s.Pid != 0 {
		b = append(b, "up (pid "...)
		b = strconv.AppendUint(b, uint64(uint32(s.Pid)), 10)
		b = append(b, ") "...)
	} else {
		b = append(b, "down "...)
	}
	// daemontools counts in a double (tai_approx): past 2^53 seconds, a
	// label from a broken record, it prints the nearest double.
	b = strconv.AppendUint(b, uint64(float64(secondsSince(s.Since, now))), 10)
	b = append(b, " seconds"...)
	if s.Pid != 0 && !normallyUp {
		b = append(b, ", normally down"...)
	}
	if s.Pid == 0 && normallyUp {
		b = append(b, ", normally up"...)
	}
	if s.Pid != 0 && s.Paused {
		b = append(b, ", paused"...)
	}
	if s.Pid == 0 && s.Want == status.WantUp {
		b = append(b, ", want up"...)
	}
	if s.Pid != 0 && s.Want == status.WantDown {
		b = append(b, ", want down"...)
	}
	return string(b)
}
