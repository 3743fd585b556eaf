// Package svstat is the program svstat, which prints one line of status for
// each service directory given, in daemontools' words, and always exits 0
// once it has started. svstat -l adds what our supervise records besides;
// svstat -j prints one JSON object per directory.
package svstat

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"daemontools/internal/report"
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
			out.WriteString(dir + ": " + plain(r, now) + "\n")
		case longForm:
			out.WriteString(dir + ": " + long(r, now) + "\n")
		case jsonForm:
			out.Write(r.AppendJSON(nil, dir, now))
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

// look reads what there is to know of dir, in the order daemontools'
// svstat does. It changes the working directory.
func look(dir string) report.Report {
	if err := syscall.Chdir(dir); err != nil {
		return report.Report{Problem: "unable to chdir: " + strerr.Reason(err)}
	}
	return report.Look(".")
}

// plain is daemontools' words after "DIR: ".
func plain(r report.Report, now tai64.Label) string {
	if r.Problem != "" {
		return r.Problem
	}
	return line(r.Status, r.NormallyUp, now)
}

// long is plain with what else we know.
func long(r report.Report, now tai64.Label) string {
	b := []byte(plain(r, now))
	if r.Problem != "" {
		return string(b)
	}
	if r.ExtErr != nil {
		return string(b) + "; " + r.ExtErr.Error()
	}
	s := r.Status
	switch {
	case s.Finishing:
		b = append(b, ", finishing"...)
	case s.Done && s.State == status.Stopped:
		b = append(b, ", done"...)
	case s.Waiting != "" && s.State == status.Stopped:
		b = append(b, ", waiting for "...)
		for i, name := range s.WaitingFor() {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendPrintable(b, name)
		}
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
			b = strconv.AppendUint(b, report.SecondsSince(s.Ready, now), 10)
			b = append(b, " seconds"...)
		} else if s.Pid != 0 {
			b = append(b, ", not ready"...)
		}
	}
	switch s.Health {
	case status.HealthUnknown:
		b = append(b, ", health unknown"...)
	case status.HealthHealthy:
		b = append(b, ", healthy"...)
	case status.HealthUnhealthy:
		b = append(b, ", unhealthy ("...)
		b = strconv.AppendUint(b, uint64(s.Failures), 10)
		b = append(b, " failed: "...)
		b = append(appendPrintable(b, s.Probe), ')')
	}
	b = append(b, ", "...)
	b = strconv.AppendUint(b, uint64(s.Restarts), 10)
	b = append(b, " restart"...)
	if s.Restarts != 1 {
		b = append(b, 's')
	}
	if s.Exited {
		b = append(b, ", last "...)
		if s.LastExit.Unhealthy {
			b = append(b, "stopped: unhealthy (probe: "...)
			b = append(appendPrintable(b, s.LastExit.Probe), "), "...)
		}
		b = append(b, exitWords(s.LastExit)...)
	}
	if s.NextStart != (tai64.Label{}) {
		b = append(b, ", next start in "...)
		b = strconv.AppendUint(b, report.SecondsUntil(s.NextStart, now), 10)
		b = append(b, " seconds"...)
	}
	if s.StartError != "" {
		b = append(b, ", "...)
		b = appendPrintable(b, s.StartError)
	}
	if s.Text != "" {
		b = append(b, ", status: "...)
		b = appendPrintable(b, s.Text)
	}
	return string(b)
}

// appendPrintable appends a service's status text to a line for a
// terminal: a newline as a space, invalid UTF-8 as "?", and every other
// control character (C0, DEL, C1) escaped as \xHH or \uHHHH, so that no
// service can retitle, clear or overwrite the terminal of whoever runs
// svstat -l.
func appendPrintable(b []byte, text string) []byte {
	const hex = "0123456789abcdef"
	for _, r := range strings.ToValidUTF8(text, "?") {
		switch {
		case r == '\n':
			b = append(b, ' ')
		case r < 0x20 || r == 0x7f:
			b = append(b, '\\', 'x', hex[r>>4], hex[r&0xf])
		case r >= 0x80 && r < 0xa0:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
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
	b = strconv.AppendUint(b, uint64(float64(report.SecondsSince(s.Since, now))), 10)
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
