// Command svstat prints one line of status for each service directory
// given, in daemontools' words, and always exits 0 once it has started.
package main

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"syscall"

	"daemontools/internal/control"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

func main() { strerr.Main("svstat", run) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	orig, err := syscall.Open(".", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return strerr.Fatal("unable to open current directory: ", err)
	}
	out := bufio.NewWriter(stdout)
	for _, dir := range args[1:] {
		out.WriteString(dir + ": " + describe(dir) + "\n")
		if err := syscall.Fchdir(orig); err != nil {
			out.Flush()
			return strerr.Fatal("unable to set directory: ", err)
		}
	}
	out.Flush() // like daemontools, which always exits 0 once under way
	return nil
}

// describe returns what svstat says about dir after "DIR: ". It changes
// the working directory.
func describe(dir string) string {
	if err := syscall.Chdir(dir); err != nil {
		return "unable to chdir: " + strerr.Reason(err)
	}
	var st syscall.Stat_t
	normallyUp := false
	if err := syscall.Stat("down", &st); err == syscall.ENOENT {
		normallyUp = true
	} else if err != nil {
		return "unable to stat down: " + strerr.Reason(err)
	}
	running, err := control.Running(".")
	if err != nil {
		return "unable to open " + control.OkFile + ": " + strerr.Reason(err)
	}
	if !running {
		return "supervise not running"
	}
	s, err := status.Read("supervise/status")
	var failed *status.ReadError
	if errors.As(err, &failed) {
		return "unable to " + failed.Op + " supervise/status: " + strerr.Reason(failed.Err)
	}
	if err != nil {
		return "unable to read supervise/status: " + err.Error()
	}
	return line(s, normallyUp, tai64.Now())
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
	var seconds uint64
	if now.Sec > s.Since.Sec {
		seconds = now.Sec - s.Since.Sec
	}
	b = strconv.AppendUint(b, seconds, 10)
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
