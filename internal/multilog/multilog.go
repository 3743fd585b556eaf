// Package multilog is daemontools' multilog: it reads lines, selects them
// with patterns and appends them to log directories that rotate by size.
//
// No line is lost or reordered. Disk trouble means a warning, a pause and a
// retry, never a dropped line. When the input is a pipe, bytes stay in it
// until they are written: multilog copies them out with tee(2), writes them,
// and only then consumes them, so a multilog killed with SIGKILL loses
// nothing and the next one starts where it stopped. Like daemontools, it
// gathers the first HeadLen bytes of a line before writing any of it, so
// such a line is never cut in two by a kill.
package multilog

import (
	"bytes"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Pause is daemontools' wait after disk or processor trouble before
// trying again.
const Pause = 5 * time.Second

// Multilog runs one script over its input.
type Multilog struct {
	script   Script
	stderr   io.Writer
	pauseFor time.Duration

	dirs   []*logDir
	status []*os.File // per action: the = file, else nil

	// The line in hand.
	inLine  bool
	decided bool   // selection done: the rest of the line streams out
	head    []byte // its first HeadLen bytes (label included) until decided
	held    int    // input bytes in head, not written anywhere yet
	sel     []bool // per directory: the line goes there
	pad     []byte // HeadLen+1 bytes for = files

	// label is "@" + TAI64N + " " of the input in hand: lines that arrive
	// in the same read get the same label, taken when the read returned.
	label [tai64.ExternalLen + 1]byte
}

// New opens every log directory and = file of script, locking and
// recovering the directories. It fails, before any input is read, when a
// directory cannot be used. pause is the wait after disk or processor
// trouble: Pause, but in tests.
func New(script Script, stderr io.Writer, pause time.Duration) (*Multilog, error) {
	m := &Multilog{script: script, stderr: stderr, pauseFor: pause,
		head: make([]byte, 0, HeadLen+1), pad: make([]byte, HeadLen+1)}
	m.status = make([]*os.File, len(script.Actions))
	dirs := 0
	for _, a := range script.Actions {
		if a.Kind == Dir {
			dirs++
		}
	}
	for i, a := range script.Actions {
		switch a.Kind {
		case Status:
			// Non-blocking, as by daemontools: a FIFO fails at once.
			fd, err := unix.Open(a.Path, unix.O_WRONLY|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o600)
			if err != nil {
				return nil, strerr.Fatal("unable to create ", a.Path, ": ", err)
			}
			m.status[i] = os.NewFile(uintptr(fd), a.Path)
		case Dir:
			d := &logDir{Action: a, ml: m, window: windowFor(dirs), cur: -1, lock: -1}
			if err := d.open(); err != nil {
				return nil, err
			}
			m.dirs = append(m.dirs, d)
		}
	}
	m.sel = make([]bool, len(m.dirs))
	return m, nil
}

func (m *Multilog) warn(parts ...any) { strerr.Warn(m.stderr, "multilog", parts...) }

func (m *Multilog) sleep() { time.Sleep(m.pauseFor) }

// pause reports trouble the daemontools way and waits before a retry.
func (m *Multilog) pause(err error, what ...any) {
	m.warn(append(what, ", pausing: ", err)...)
	m.sleep()
}

// stderrFile is where processors write their complaints.
func (m *Multilog) stderrFile() *os.File {
	if f, ok := m.stderr.(*os.File); ok {
		return f
	}
	return nil
}

// feed runs the script over p. When stop is set it returns at the first
// line end (at once when no line is in hand) and says how much of p it
// took; otherwise it takes all of p.
func (m *Multilog) feed(p []byte, stop bool) int {
	if m.script.Stamp {
		tai64.Now().AppendExternal(m.label[:0])
		m.label[tai64.ExternalLen] = ' '
	}
	i := 0
	for i < len(p) {
		if !m.inLine {
			if stop {
				return i
			}
			m.startLine()
		}
		rest := p[i:]
		if !m.decided {
			rest = rest[:min(len(rest), HeadLen-len(m.head))]
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				m.head = append(m.head, rest[:j]...)
				i += j + 1
				m.decide()
				m.writeSelected(newline)
				m.inLine = false
				continue
			}
			m.head = append(m.head, rest...)
			m.held += len(rest)
			i += len(rest)
			if len(m.head) >= HeadLen {
				m.decide()
			}
			continue
		}
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			m.writeSelected(rest[:j+1])
			i += j + 1
			m.inLine = false
			continue
		}
		m.writeSelected(rest)
		i = len(p)
	}
	return i
}

var newline = []byte{'\n'}

func (m *Multilog) startLine() {
	m.inLine, m.decided, m.held = true, false, 0
	m.head = m.head[:0]
	if m.script.Stamp {
		m.head = append(m.head, m.label[:]...)
	}
}

// decide runs the actions over the head of the line and writes the head
// to the directories that selected it.
func (m *Multilog) decide() {
	selected, k := true, 0
	for i, a := range m.script.Actions {
		switch a.Kind {
		case Select:
			if !selected && Match(a.Pattern, m.head) {
				selected = true
			}
		case Deselect:
			if selected && Match(a.Pattern, m.head) {
				selected = false
			}
		case Echo:
			if selected {
				m.echo()
			}
		case Status:
			if selected {
				m.writeStatus(i)
			}
		case Dir:
			m.sel[k] = selected
			k++
		}
	}
	m.decided, m.held = true, 0
	m.writeSelected(m.head)
}

func (m *Multilog) echo() {
	line := m.head
	if len(line) > EchoLen {
		line = append(line[:EchoLen:EchoLen], "...\n"...)
	} else {
		line = append(line[:len(line):len(line)], '\n')
	}
	m.stderr.Write(line)
}

// writeStatus replaces the = file with the head padded to HeadLen+1 bytes.
func (m *Multilog) writeStatus(i int) {
	n := copy(m.pad, m.head)
	for j := n; j < len(m.pad); j++ {
		m.pad[j] = '\n'
	}
	f := m.status[i]
	for {
		_, err := f.WriteAt(m.pad, 0)
		if err == nil {
			return
		}
		m.pause(err, "unable to write to ", m.script.Actions[i].Path)
	}
}

func (m *Multilog) writeSelected(p []byte) {
	for k, d := range m.dirs {
		if m.sel[k] {
			d.write(p)
		}
	}
}

// keepHeld takes note that the held bytes of the line in hand are off the
// input: only head has them now.
func (m *Multilog) keepHeld() { m.held = 0 }

// endInput ends a partial last line with a newline.
func (m *Multilog) endInput() {
	if !m.inLine {
		return
	}
	if !m.decided {
		m.decide()
	}
	m.writeSelected(newline)
	m.inLine = false
}

// flush writes out everything taken so far.
func (m *Multilog) flush() {
	for _, d := range m.dirs {
		d.flush()
	}
}

// rotateNonEmpty rotates every directory whose current has something in it.
func (m *Multilog) rotateNonEmpty() {
	for _, d := range m.dirs {
		if d.bytes > 0 {
			d.rotate()
		}
	}
}

// Close finishes every directory: written, synced, current complete.
func (m *Multilog) Close() {
	for _, d := range m.dirs {
		d.close()
	}
	for _, f := range m.status {
		if f != nil {
			f.Close()
		}
	}
}
