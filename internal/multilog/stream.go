package multilog

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"daemontools/internal/jsonstring"
)

// pipeBuf is PIPE_BUF on Linux: a write to a pipe of at most this many
// bytes is never interleaved with other writers' bytes.
const pipeBuf = 4096

// output is standard output as the stream actions write to it. Many
// loggers usually share it (a container's output), so it gets whole
// lines, in writes of at most pipeBuf bytes that end at a line's end when
// the lines allow: lines of different loggers never mix. A longer line
// goes out in writes of its own, in pieces as it comes; should two stream
// actions take such a line, their pieces alternate.
type output struct {
	ml      *Multilog
	fd      int
	buf     []byte // whole lines
	streams []*stream
}

// flushAt is how much output gathers before it is written out.
const flushAt = 64 << 10

// stream is one stream action, 1 or j.
type stream struct {
	kind Kind
	line []byte // the line being rendered
	// prefix is "NAME: " for 1; service is the "service" member of j's
	// objects, or nothing.
	prefix, service []byte
	// cut is the start of a UTF-8 sequence at the end of j's last piece,
	// whose rest the next piece may bring.
	cut  [utf8.UTFMax]byte
	ncut int
}

func newStream(kind Kind, name string) *stream {
	s := &stream{kind: kind}
	if name != "" {
		s.prefix = append([]byte(name), ": "...)
		s.service = jsonstring.Append([]byte(`,"service":"`), []byte(name))
		s.service = append(s.service, '"')
	}
	return s
}

// add renders a piece of a selected line: start says it is the line's
// head, which begins with its label of labelLen bytes, iso being the
// line's time; a newline at the end ends the line, which then joins the
// whole lines of o.
func (o *output) add(s *stream, p []byte, start bool, labelLen int, iso []byte) {
	if start {
		s.line = s.begin(s.line, p[:labelLen], iso)
		s.ncut = 0
		p = p[labelLen:]
	}
	end := len(p) > 0 && p[len(p)-1] == '\n'
	if end {
		p = p[:len(p)-1]
	}
	if s.kind == Stdout {
		s.line = append(s.line, p...)
	} else {
		s.json(p, end)
	}
	if end {
		o.buf = append(append(o.buf, s.line...), '\n')
		s.line = s.line[:0]
		if len(o.buf) >= flushAt {
			o.flush()
		}
	}
}

// addLine renders a whole line, label apart and without its newline,
// straight into the whole lines of o.
func (o *output) addLine(s *stream, label, line, iso []byte) {
	o.buf = s.begin(o.buf, label, iso)
	if s.kind == Stdout {
		o.buf = append(o.buf, line...)
	} else {
		o.buf = append(jsonstring.Append(o.buf, line), `"}`...)
	}
	o.buf = append(o.buf, '\n')
	if len(o.buf) >= flushAt {
		o.flush()
	}
}

// begin appends the start of a rendered line: for 1 the label and the
// name, for j the object up to the line's first byte.
func (s *stream) begin(b, label, iso []byte) []byte {
	if s.kind == Stdout {
		return append(append(b, label...), s.prefix...)
	}
	b = append(append(append(b, `{"time":"`...), iso...), '"')
	return append(append(b, s.service...), `,"line":"`...)
}

// json adds p to the line of an object, escaped, keeping a UTF-8
// sequence cut at p's end for the next piece unless the line ends here.
func (s *stream) json(p []byte, end bool) {
	if s.ncut > 0 {
		joined := append(s.cut[:s.ncut:s.ncut], p[:min(len(p), utf8.UTFMax-s.ncut)]...)
		if !end && !utf8.FullRune(joined) {
			s.ncut = copy(s.cut[:], joined)
			return
		}
		if r, size := utf8.DecodeRune(joined); r == utf8.RuneError && size == 1 {
			s.line = jsonstring.Append(s.line, s.cut[:s.ncut]) // each byte invalid
		} else {
			s.line = jsonstring.Append(s.line, joined[:size])
			p = p[size-s.ncut:]
		}
		s.ncut = 0
	}
	tail := 0
	if !end {
		tail = cutTail(p)
	}
	s.line = jsonstring.Append(s.line, p[:len(p)-tail])
	s.ncut = copy(s.cut[:], p[len(p)-tail:])
	if end {
		s.line = append(s.line, `"}`...)
	}
}

// cutTail is how many bytes at the end of p start a UTF-8 sequence that
// p does not complete.
func cutTail(p []byte) int {
	for n := 1; n < utf8.UTFMax && n <= len(p); n++ {
		c := p[len(p)-n]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 { // a leading byte
			if utf8.FullRune(p[len(p)-n:]) {
				return 0
			}
			return n
		}
	}
	return 0
}

// flush writes out the whole lines, at most pipeBuf bytes ending at a
// line's end at a time, or one long line, then what the stream actions
// have of a long line. Trouble means a warning, a pause and a retry, as
// with a log directory.
func (o *output) flush() {
	out := o.buf
	for len(out) > 0 {
		n := len(out)
		if n > pipeBuf {
			if j := bytes.LastIndexByte(out[:pipeBuf], '\n'); j >= 0 {
				n = j + 1
			} else if j := bytes.IndexByte(out[pipeBuf:], '\n'); j >= 0 {
				n = pipeBuf + j + 1
			}
		}
		o.write(out[:n])
		out = out[n:]
	}
	o.buf = o.buf[:0]
	for _, s := range o.streams {
		o.write(s.line)
		s.line = s.line[:0]
	}
}

func (o *output) write(p []byte) {
	for len(p) > 0 {
		n, err := unix.Write(o.fd, p)
		if n > 0 {
			p = p[n:]
			continue
		}
		switch err {
		case unix.EINTR:
		case unix.EAGAIN: // shared with a holder that made it non-blocking
			unix.Poll([]unix.PollFd{{Fd: int32(o.fd), Events: unix.POLLOUT}}, -1)
		default:
			if err == nil {
				err = unix.EIO
			}
			o.ml.pause(err, "unable to write to standard output")
		}
	}
}

// appendRFC3339 appends t in UTC as RFC 3339 with microseconds:
// 2026-01-02T15:04:05.123456Z.
func appendRFC3339(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/1000, 6)
	return append(b, 'Z')
}

// appendDigits appends n in decimal, zero-padded to width.
func appendDigits(b []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
