package sdnotify

import (
	"bytes"
	"strconv"
)

// Event is a bit set of the state changes one message announces.
type Event uint8

const (
	EventReady           Event = 1 << iota // READY=1: start-up is complete
	EventStopping                          // STOPPING=1: shutting down
	EventReloading                         // RELOADING=1: reloading its configuration
	EventWatchdog                          // WATCHDOG=1: still alive
	EventWatchdogTrigger                   // WATCHDOG=trigger: treat me as hung now
)

// Message is what one datagram says. Assignments that mean nothing to a
// supervisor (FDSTORE=1, ERRNO=, BARRIER=1...) are accepted and left out.
type Message struct {
	Events    Event
	Status    string // STATUS=, when HasStatus
	HasStatus bool
	MainPid   int // MAINPID=, 0 when absent
}

// MaxSize is the longest datagram read, as systemd's manager reads them:
// a longer one is not a message.
const MaxSize = 4096

// ParseError is the first line of a datagram that is not a VAR=value
// assignment, or assigns a value its variable cannot have; the other
// lines are still obeyed.
type ParseError struct {
	Line string // the line, at most 40 bytes of it
	Why  string
}

func (e *ParseError) Error() string { return e.Why + ": " + strconv.Quote(e.Line) }

// Parse reads a datagram: newline-separated VAR=value assignments. It
// returns what the good lines say, and a *ParseError for the first bad
// one, if any.
func Parse(b []byte) (Message, error) {
	var m Message
	var bad *ParseError
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		if len(line) == 0 {
			continue
		}
		if why := m.assign(line); why != "" && bad == nil {
			bad = &ParseError{Line: string(line[:min(len(line), 40)]), Why: why}
		}
	}
	if bad != nil {
		return m, bad
	}
	return m, nil
}

// assign applies one line to m, or says what is wrong with it.
func (m *Message) assign(line []byte) string {
	name, value, ok := bytes.Cut(line, []byte{'='})
	if !ok {
		return "not an assignment"
	}
	if !validName(name) {
		return "not a variable name"
	}
	if bytes.IndexByte(value, 0) >= 0 {
		return "NUL in the value"
	}
	flag := func(e Event) string {
		if string(value) != "1" {
			return "only 1 is meaningful"
		}
		m.Events |= e
		return ""
	}
	switch string(name) {
	case "READY":
		return flag(EventReady)
	case "STOPPING":
		return flag(EventStopping)
	case "RELOADING":
		return flag(EventReloading)
	case "WATCHDOG":
		if string(value) == "trigger" {
			m.Events |= EventWatchdogTrigger
			return ""
		}
		return flag(EventWatchdog)
	case "STATUS":
		m.Status, m.HasStatus = string(value), true
	case "MAINPID":
		pid, err := strconv.Atoi(string(value))
		if err != nil || pid <= 0 || value[0] == '+' {
			return "not a process id"
		}
		m.MainPid = pid
	}
	return ""
}

// validName tells whether b is a variable name as systemd writes them:
// capital letters, digits and underscores, not starting with a digit.
func validName(b []byte) bool {
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
