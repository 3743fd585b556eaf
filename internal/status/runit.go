package status

import "strconv"

// runit's runsv keeps two text files beside the record, which some of
// runit's clients read instead of it (GitLab's gitlab-ctl graceful-kill
// reads the pid; Debian's start-stop-daemon.runit and monitoring
// plugins, the state): written as runsv writes them, they say what the
// record says.
const (
	PidFile  = "supervise/pid"  // "12\n"; empty while the pid is 0
	StatFile = "supervise/stat" // Stat's line
)

// Stat is runsv's supervise/stat line for s: "down", "run" or "finish",
// then ", paused", ", got TERM" and, unless down, ", want down" where they
// hold, and a newline.
func (s Status) Stat() string {
	b := make([]byte, 0, 40)
	switch s.runitState() {
	case runitDown:
		b = append(b, "down"...)
	case runitRun:
		b = append(b, "run"...)
	default:
		b = append(b, "finish"...)
	}
	if s.Pid != 0 && s.Paused {
		b = append(b, ", paused"...)
	}
	if s.StopSent {
		b = append(b, ", got TERM"...)
	}
	if s.runitState() != runitDown && s.Want == WantDown {
		b = append(b, ", want down"...)
	}
	return string(append(b, '\n'))
}

// WriteRunit replaces, in the service directory dir, PidFile when pid is
// true (runsv writes it only when the pid has changed), then StatFile
// when stat is true, each as Write replaces the record.
func WriteRunit(dir int, s Status, pid, stat bool) error {
	if pid {
		var b []byte
		if s.Pid != 0 {
			b = append(strconv.AppendInt(nil, int64(s.Pid), 10), '\n')
		}
		if err := replace(dir, PidFile, b); err != nil {
			return err
		}
	}
	if !stat {
		return nil
	}
	return replace(dir, StatFile, []byte(s.Stat()))
}
