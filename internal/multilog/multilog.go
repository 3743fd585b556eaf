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
	out    output     // the stream actions'
	// now is the clock of the labels and of j's times.
	now func() time.Time

	// The line in hand.
	inLine  bool
	decided bool   // selection done: the rest of the line streams out
	head    []byte // its first hold bytes (label included) until decided
	held    int    // input bytes in head, not written anywhere yet
	sel     []bool // per directory, then per stream action: the line goes there
	pad     []byte // HeadLen+1 bytes for = files
	echoed  []byte // what e printed, not yet written
	// hold is how much of a line is gathered before any of it is
	// written: HeadLen, or with stream actions enough to write most
	// lines whole in one write to a pipe (pipeBuf).
	hold int
	// takesAll says every action is a directory or a stream action:
	// every line goes to each, whole, and lines can be taken a buffer at
	// a time (stamped into lines for the directories when there is a
	// label).
	takesAll bool

	// label is the stamp of the input in hand ("@" + TAI64N + " ", or
	// RFC 3339 + " "), iso its time in RFC 3339 for j: lines that arrive
	// in the same read get the same, taken when the read returned.
	// lineISO is iso as it was when the line in hand began.
	label        [32]byte
	labelLen     int
	iso, lineISO []byte
}

// New opens every log directory and = file of script, locking and
// recovering the directories. It fails, before any input is read, when a
// directory cannot be used. Stream actions write to the descriptor
// stdout, with the service's name script.Name. pause is the wait after
// disk or processor trouble: Pause, but in tests.
func New(script Script, stdout int, stderr io.Writer, pause time.Duration) (*Multilog, error) {
	m := &Multilog{script: script, stderr: stderr, pauseFor: pause,
		pad: make([]byte, HeadLen+1), hold: HeadLen, now: time.Now}
	m.out = output{ml: m, fd: stdout}
	m.status = make([]*os.File, len(script.Actions))
	dirs := 0
	for _, a := range script.Actions {
		if a.Kind == Dir {
			dirs++
		}
	}
	for i, a := range script.Actions {
		switch a.Kind {
		case Stdout, JSON:
			s := newStream(a.Kind, script.Name)
			m.out.streams = append(m.out.streams, s)
			m.hold = max(HeadLen, pipeBuf-len(s.prefix)-len(newline))
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
	if len(m.out.streams) > 0 {
		// Like a directory that cannot be opened: fatal before any input.
		flags, err := unix.FcntlInt(uintptr(stdout), unix.F_GETFL, 0)
		if err == nil && flags&unix.O_ACCMODE == unix.O_RDONLY {
			err = unix.EBADF
		}
		if err != nil {
			return nil, strerr.Fatal("unable to write to standard output: ", err)
		}
	}
	m.sel = make([]bool, len(m.dirs)+len(m.out.streams))
	m.takesAll = len(m.dirs)+len(m.out.streams) == len(script.Actions)
	m.head = make([]byte, 0, m.hold+1)
	return m, nil
}

func (m *Multilog) warn(parts ...any) {
	m.flushEcho()
	strerr.Warn(m.stderr, "multilog", parts...)
}

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
	m.stamp()
	i := 0
	for i < len(p) {
		if !m.inLine {
			if stop {
				return i
			}
			if m.takesAll {
				if n := m.writeLines(p[i:]); n > 0 {
					i += n
					continue
				}
			}
			m.startLine()
		}
		rest := p[i:]
		if !m.decided {
			rest = rest[:min(len(rest), m.hold-len(m.head))]
			if j := bytes.IndexByte(rest, '\n'); j >= 0 {
				m.head = append(m.head, rest[:j]...)
				i += j + 1
				m.decide()
				m.writeSelected(newline, false)
				m.inLine = false
				continue
			}
			m.head = append(m.head, rest...)
			m.held += len(rest)
			i += len(rest)
			if len(m.head) >= m.hold {
				m.decide()
			}
			continue
		}
		if j := bytes.IndexByte(rest, '\n'); j >= 0 {
			m.writeSelected(rest[:j+1], false)
			i += j + 1
			m.inLine = false
			continue
		}
		m.writeSelected(rest, false)
		i = len(p)
	}
	return i
}

var newline = []byte{'\n'}

// writeLines writes the whole lines at the start of p to every output
// in one go, as the line-by-line path would, and says how much of p they
// take.
func (m *Multilog) writeLines(p []byte) int {
	end := bytes.LastIndexByte(p, '\n') + 1
	if end == 0 {
		return 0
	}
	lines := p[:end]
	label := m.label[:m.labelLen]
	if len(m.out.streams) > 0 {
		for rest := lines; len(rest) > 0; {
			j := bytes.IndexByte(rest, '\n') + 1
			for _, s := range m.out.streams {
				m.out.addLine(s, label, rest[:j-1], m.iso)
			}
			rest = rest[j:]
		}
	}
	for _, d := range m.dirs {
		d.writeLines(label, lines)
	}
	return end
}

// stamp takes the time of the input in hand, as the script needs it.
func (m *Multilog) stamp() {
	if m.script.Stamp == NoStamp && len(m.out.streams) == 0 {
		return
	}
	now := m.now()
	m.iso = appendRFC3339(m.iso[:0], now)
	switch m.script.Stamp {
	case TAI64N:
		m.labelLen = len(tai64.FromTime(now).AppendExternal(m.label[:0]))
	case RFC3339:
		m.labelLen = copy(m.label[:], m.iso)
	default:
		return
	}
	m.label[m.labelLen] = ' '
	m.labelLen++
}

func (m *Multilog) startLine() {
	m.inLine, m.decided, m.held = true, false, 0
	m.head = append(m.head[:0], m.label[:m.labelLen]...)
	if len(m.out.streams) > 0 {
		m.lineISO = append(m.lineISO[:0], m.iso...)
	}
}

// decide runs the actions over the head of the line (its first HeadLen
// bytes, as daemontools sees it) and writes the head to the outputs that
// selected it.
func (m *Multilog) decide() {
	head := m.head[:min(len(m.head), HeadLen)]
	selected, k, o := true, 0, len(m.dirs)
	for i, a := range m.script.Actions {
		switch a.Kind {
		case Select:
			if !selected && Match(a.Pattern, head) {
				selected = true
			}
		case Deselect:
			if selected && Match(a.Pattern, head) {
				selected = false
			}
		case Echo:
			if selected {
				m.echo(head)
			}
		case Status:
			if selected {
				m.writeStatus(i, head)
			}
		case Dir:
			m.sel[k] = selected
			k++
		case Stdout, JSON:
			m.sel[o] = selected
			o++
		}
	}
	m.decided, m.held = true, 0
	m.writeSelected(m.head, true)
}

// echo prints line for e, gathered with the others of the read: a
// write per line would cost more than the rest of the line's path.
func (m *Multilog) echo(line []byte) {
	if len(line) > EchoLen {
		m.echoed = append(append(m.echoed, line[:EchoLen]...), "...\n"...)
	} else {
		m.echoed = append(append(m.echoed, line...), '\n')
	}
}

// flushEcho writes what e has printed, before anything else goes to
// stderr.
func (m *Multilog) flushEcho() {
	if len(m.echoed) > 0 {
		m.stderr.Write(m.echoed)
		m.echoed = m.echoed[:0]
	}
}

// writeStatus replaces the = file with the head padded to HeadLen+1 bytes.
func (m *Multilog) writeStatus(i int, head []byte) {
	n := copy(m.pad, head)
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

// writeSelected gives p, a piece of the line in hand, to the outputs that
// selected it: start says p is the line's head, label first.
func (m *Multilog) writeSelected(p []byte, start bool) {
	for k, d := range m.dirs {
		if m.sel[k] {
			d.write(p)
		}
	}
	for k, s := range m.out.streams {
		if m.sel[len(m.dirs)+k] {
			m.out.add(s, p, start, m.labelLen, m.lineISO)
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
	m.writeSelected(newline, false)
	m.inLine = false
}

// flush writes out everything taken so far.
func (m *Multilog) flush() {
	m.flushEcho()
	for _, d := range m.dirs {
		d.flush()
	}
	m.out.flush()
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
	m.flushEcho()
	m.out.flush()
	for _, d := range m.dirs {
		d.close()
	}
	for _, f := range m.status {
		if f != nil {
			f.Close()
		}
	}
}
