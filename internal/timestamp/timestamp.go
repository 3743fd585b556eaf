// Package timestamp holds the two line filters built on TAI64N labels:
// Stamp (tai64n) puts a label before each line, Local (tai64nlocal) turns
// leading labels into local time.
//
// Both stream: a line is never held whole in memory, and whatever one read
// produced is written before the next read, so a finished line never waits
// behind a blocked input while large inputs still go out in big writes.
package timestamp

import (
	"bytes"
	"io"
	"strconv"

	"daemontools/internal/localtime"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

const chunk = 64 << 10

// Stamp copies r to w with "@" + 24 hex digits + " " before every line.
// Lines that arrive in the same read get the same label, taken when the read
// returned. A partial last line is stamped and passed on without a newline.
func Stamp(r io.Reader, w io.Writer, now func() tai64.Label) error {
	lineStart := true
	stamp := func(out, in []byte) []byte {
		var label [tai64.ExternalLen + 1]byte
		now().AppendExternal(label[:0])
		label[tai64.ExternalLen] = ' '
		for len(in) > 0 {
			if lineStart {
				out = append(out, label[:]...)
			}
			i := bytes.IndexByte(in, '\n')
			if i < 0 {
				lineStart = false
				return append(out, in...)
			}
			out = append(out, in[:i+1]...)
			in = in[i+1:]
			lineStart = true
		}
		return out
	}
	return pump(r, w, stamp, nil)
}

// Local copies r to w, replacing a label that starts a line with its local
// time as daemontools prints it, YYYY-MM-DD HH:MM:SS.NNNNNNNNN (the year
// unpadded). Like daemontools it reads the "@" and every hex digit after
// it, and takes the last 24 digits as the label: so a run of more than 24
// is converted too (and held until it ends, the one part of a line held in
// memory). Anything else passes through unchanged: malformed labels, and
// labels whose year the C library cannot hold, on which daemontools
// crashes.
func Local(r io.Reader, w io.Writer, zone *localtime.Zone) error {
	l := localizer{zone: zone}
	return pump(r, w, l.convert, l.finish)
}

// pump reads r a chunk at a time, lets step append the output for it, and
// writes that output before reading again; at end of input, finish (if not
// nil) appends whatever was held back.
func pump(r io.Reader, w io.Writer, step func(out, in []byte) []byte, finish func(out []byte) []byte) error {
	in := make([]byte, chunk)
	out := make([]byte, 0, 2*chunk)
	for {
		n, rerr := r.Read(in)
		if n > 0 {
			out = step(out, in[:n])
		}
		if rerr == io.EOF && finish != nil {
			out = finish(out)
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return strerr.Fatal("unable to write output: ", err)
			}
			out = out[:0]
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return strerr.Fatal("unable to read input: ", rerr)
		}
	}
}

type localizer struct {
	zone      *localtime.Zone
	head      []byte // "@" and the hex digits after it that start the current line, while undecided
	inLine    bool   // past the start of a line that is already decided
	lastSec   int64
	lastStamp []byte // "YYYY-MM-DD HH:MM:SS" for lastSec, nil if none
}

func (l *localizer) convert(out, in []byte) []byte {
	for len(in) > 0 {
		if l.inLine {
			i := bytes.IndexByte(in, '\n')
			if i < 0 {
				return append(out, in...)
			}
			out = append(out, in[:i+1]...)
			in = in[i+1:]
			l.inLine = false
			continue
		}
		// Gather the "@" and the digits after it; the first other byte
		// decides.
		if len(l.head) == 0 {
			if in[0] != '@' {
				out = l.decide(out)
				continue
			}
			l.head = append(l.head, '@')
			in = in[1:]
		}
		i := 0
		for i < len(in) && isHex(in[i]) {
			i++
		}
		l.head = append(l.head, in[:i]...)
		if in = in[i:]; len(in) > 0 {
			out = l.decide(out)
		}
	}
	return out
}

// decide writes the gathered head, converted when its last 24 digits are a
// label, and goes on with the rest of the line.
func (l *localizer) decide(out []byte) []byte {
	h := l.head
	l.head = h[:0]
	l.inLine = true
	if len(h) >= tai64.ExternalLen {
		var ext [tai64.ExternalLen]byte
		ext[0] = '@'
		copy(ext[1:], h[len(h)-(tai64.ExternalLen-1):])
		if label, ok := tai64.ParseExternal(ext[:]); ok && l.stamp(label.Unix()) {
			return l.appendLocal(out, label)
		}
	}
	return append(out, h...)
}

// finish handles input that ends inside an undecided head.
func (l *localizer) finish(out []byte) []byte {
	if len(l.head) == 0 {
		return out
	}
	return l.decide(out)
}

// stamp makes lastStamp the local time of Unix second sec, and reports
// whether it has one.
func (l *localizer) stamp(sec int64) bool {
	if sec == l.lastSec && l.lastStamp != nil {
		return true
	}
	c, ok := l.zone.Local(sec)
	if !ok {
		return false
	}
	// The year as daemontools prints C's int year: unsigned long, unpadded.
	b := strconv.AppendUint(l.lastStamp[:0], uint64(int64(int32(c.Year))), 10)
	b = append(b, '-')
	b = appendTwo(b, c.Month)
	b = append(b, '-')
	b = appendTwo(b, c.Day)
	b = append(b, ' ')
	b = appendTwo(b, c.Hour)
	b = append(b, ':')
	b = appendTwo(b, c.Minute)
	b = append(b, ':')
	b = appendTwo(b, c.Second)
	l.lastStamp, l.lastSec = b, sec
	return true
}

func appendTwo(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// appendLocal appends the label's local time, which stamp has made.
func (l *localizer) appendLocal(out []byte, label tai64.Label) []byte {
	out = append(out, l.lastStamp...)
	out = append(out, '.')
	// At least nine digits; an out-of-range count shows all ten, as the
	// reference prints it.
	for d := uint32(100_000_000); d > 1 && label.Nano < d; d /= 10 {
		out = append(out, '0')
	}
	return strconv.AppendUint(out, uint64(label.Nano), 10)
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
