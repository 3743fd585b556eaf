package multilog

import (
	"bytes"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Bytes of a line that patterns, `=` and `e` look at.
const (
	matchLen  = 1000
	stderrLen = 200
	chunkSize = 1 << 20 // input read at once at most
)

// logger applies a script to a stream of bytes, line by line.
type logger struct {
	script  Script
	dirs    []*logDir
	stderr  io.Writer
	status  []*os.File // per action index, for `=`
	filter  bool       // the script has patterns: lines wait for their head
	atStart bool       // the next byte starts a line
	decided bool       // the selection of the line in hand is known
	head    []byte     // first matchLen bytes of the line in hand (after t)
	sel     []bool     // per action: the line is selected there
	stamp   []byte
}

// Run runs the script on stdin until end of input or TERM.
func Run(args []string, stdin *os.File, stderr io.Writer) error {
	s := Parse(args)
	l := &logger{script: s, stderr: stderr, atStart: true, sel: make([]bool, len(s.Actions)),
		status: make([]*os.File, len(s.Actions))}
	for i, a := range s.Actions {
		switch a.Kind {
		case actSelect, actDeselect:
			l.filter = true
		case actStatus:
			f, err := os.OpenFile(a.Arg, os.O_WRONLY|os.O_CREATE, 0o600)
			if err != nil {
				return fatal("unable to create ", a.Arg, ": ", err)
			}
			l.status[i] = f
		}
	}
	for _, cfg := range s.Dirs {
		d, err := openDir(cfg, stderr)
		if err != nil {
			return err
		}
		l.dirs = append(l.dirs, d)
	}
	if !l.filter {
		l.decide()
	}
	err := l.loop(stdin)
	if !l.atStart {
		l.feed([]byte{'\n'})
	}
	for _, d := range l.dirs {
		d.close()
	}
	return err
}

// loop reads input. When stdin is a pipe, bytes are copied with tee(2) and
// consumed only after they have been written, so a multilog killed at any
// moment leaves the unwritten input in the pipe for the next one.
func (l *logger) loop(stdin *os.File) error {
	wakeR, wakeW, err := os.Pipe()
	if err != nil {
		return fatal("unable to create pipe: ", err)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGALRM)
	var term, alrm atomicFlag
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM {
				term.set()
			} else {
				alrm.set()
			}
			wakeW.Write([]byte{0})
		}
	}()
	in := int(stdin.Fd())
	var st unix.Stat_t
	isPipe := unix.Fstat(in, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO
	var teeR, teeW *os.File
	if isPipe {
		if teeR, teeW, err = os.Pipe(); err != nil {
			return fatal("unable to create pipe: ", err)
		}
		// Bigger pipes mean fewer, larger chunks; the default size works too.
		unix.FcntlInt(uintptr(in), unix.F_SETPIPE_SZ, chunkSize)
		unix.FcntlInt(teeW.Fd(), unix.F_SETPIPE_SZ, chunkSize)
	}
	buf := make([]byte, chunkSize)
	discard := make([]byte, chunkSize)
	fds := []unix.PollFd{{Fd: int32(in), Events: unix.POLLIN}, {Fd: int32(wakeR.Fd()), Events: unix.POLLIN}}
	for {
		if alrm.take() {
			for _, d := range l.dirs {
				if d.bytes > 0 {
					d.flush()
					d.rotate()
				}
			}
		}
		if term.get() && l.atStart {
			return nil
		}
		fds[0].Revents, fds[1].Revents = 0, 0
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return fatal("unable to poll input: ", err)
		}
		if fds[1].Revents != 0 {
			wakeR.Read(discard)
		}
		if fds[0].Revents == 0 {
			continue
		}
		var n int
		if isPipe {
			n64, err := unix.Tee(in, int(teeW.Fd()), len(buf), unix.SPLICE_F_NONBLOCK)
			if err == unix.EAGAIN {
				continue
			}
			if err != nil {
				return fatal("unable to read input: ", err)
			}
			n = int(n64)
			if _, err := io.ReadFull(teeR, buf[:n]); err != nil {
				return fatal("unable to read input: ", err)
			}
		} else {
			n, err = unix.Read(in, buf)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil {
				return fatal("unable to read input: ", err)
			}
		}
		if n == 0 {
			return nil
		}
		use := n
		if term.get() {
			// Finish the line in hand and leave the rest unread.
			if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
				use = i + 1
			}
		}
		if isPipe {
			use = l.feedWhole(buf[:use])
		} else {
			l.feed(buf[:use])
		}
		for _, d := range l.dirs {
			d.flush()
		}
		if isPipe {
			for done := 0; done < use; {
				k, err := unix.Read(in, discard[:use-done])
				if err == unix.EINTR || err == unix.EAGAIN {
					continue
				}
				if err != nil || k == 0 {
					return fatal("unable to read input: ", err)
				}
				done += k
			}
		} else if use < n {
			unix.Seek(in, int64(use-n), io.SeekCurrent)
		}
	}
}

// feedWhole runs the script on b and returns how many bytes of b were
// handled. A line at the end of b still waiting for the patterns to see its
// head is left in the pipe for the next piece, unless it is all there is.
func (l *logger) feedWhole(b []byte) int {
	i := bytes.LastIndexByte(b, '\n')
	if !l.filter || i < 0 {
		l.feed(b)
		return len(b)
	}
	l.feed(b[:i+1])
	l.feed(b[i+1:])
	if !l.atStart && !l.decided {
		// Nothing of that line has been written yet: read it again later.
		l.atStart = true
		return i + 1
	}
	return len(b)
}

// feed runs the script on b, a piece of the input.
func (l *logger) feed(b []byte) {
	l.stamp = l.stamp[:0]
	for len(b) > 0 {
		if l.atStart {
			l.atStart = false
			l.head = l.head[:0]
			if l.script.Timestamp {
				if len(l.stamp) == 0 {
					l.stamp = append(tai64.Now().AppendExternal(l.stamp), ' ')
				}
				l.head = append(l.head, l.stamp...)
			}
			if l.decided {
				l.putSelected(l.head)
			}
		}
		line := b
		end := bytes.IndexByte(b, '\n')
		if end >= 0 {
			line = b[:end+1]
		}
		b = b[len(line):]
		body := line
		if end >= 0 {
			body = line[:len(line)-1]
		}
		if len(l.head) < matchLen {
			k := min(len(body), matchLen-len(l.head))
			if !l.decided {
				l.head = append(l.head, body[:k]...)
				if len(l.head) < matchLen && end < 0 {
					continue
				}
				l.decide()
				l.putSelected(l.head)
				line = line[k:]
			} else {
				l.head = append(l.head, body[:k]...)
			}
		}
		l.putSelected(line)
		if end >= 0 {
			l.endLine()
		}
	}
}

// decide runs the patterns on the head of the line and records where the
// line is selected.
func (l *logger) decide() {
	on := true
	for i, a := range l.script.Actions {
		switch a.Kind {
		case actDeselect:
			if on && Match(a.Arg, l.head) {
				on = false
			}
		case actSelect:
			if !on && Match(a.Arg, l.head) {
				on = true
			}
		}
		l.sel[i] = on
	}
	l.decided = true
}

func (l *logger) putSelected(b []byte) {
	if len(b) == 0 {
		return
	}
	for i, a := range l.script.Actions {
		if a.Kind == actDir && l.sel[i] {
			l.dirs[a.Dir].put(b)
		}
	}
}

// endLine ends the line in hand: `e` and `=` output, rotation checks.
func (l *logger) endLine() {
	for i, a := range l.script.Actions {
		if !l.sel[i] {
			continue
		}
		switch a.Kind {
		case actDir:
			l.dirs[a.Dir].endLine()
		case actStderr:
			msg := l.head
			if len(msg) > stderrLen {
				msg = append(msg[:stderrLen:stderrLen], "...\n"...)
			} else {
				msg = append(msg[:len(msg):len(msg)], '\n')
			}
			l.stderr.Write(msg)
		case actStatus:
			l.writeStatus(l.status[i])
		}
	}
	l.atStart = true
	l.decided = !l.filter
}

// writeStatus replaces the status file's contents with the head of the
// line padded with newlines to 1001 bytes.
func (l *logger) writeStatus(f *os.File) {
	var b [matchLen + 1]byte
	n := copy(b[:], l.head)
	for i := n; i < len(b); i++ {
		b[i] = '\n'
	}
	for {
		_, err := f.WriteAt(b[:], 0)
		if err == nil {
			return
		}
		strerr.Warn(l.stderr, "multilog", "unable to write to ", f.Name(), ", pausing: ", err)
		time.Sleep(Pause)
	}
}
