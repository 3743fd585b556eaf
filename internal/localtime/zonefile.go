package localtime

import (
	"bytes"
	"encoding/binary"
	"math"
)

// zoneFile is a TZif file as glibc reads it: the 64-bit data of a
// version 2 or later file (the 32-bit data of a version 1 file), leap
// second records included, and the TZ string that rules after the last
// transition.
type zoneFile struct {
	transitions []int64 // Unix times, in leap-second time for right/ zones
	typeOf      []uint8 // the type each transition starts
	types       []zoneType
	leaps       []leapSecond
	spec        *rules // the TZ string's rules, nil if none
	// The offset of the last standard type transitioned to, by which glibc
	// moves posixrules' changes out of standard time.
	stdoff int64
}

type zoneType struct {
	offset   int64
	dst      bool
	std, utc bool // transitions into it are given in standard time, in UTC
}

type leapSecond struct {
	at         int64 // the first second counted with correction
	correction int64 // seconds inserted (so far) before at
}

// tzifReader reads a TZif file from the front, failing once short.
type tzifReader struct {
	b  []byte
	ok bool
}

func (r *tzifReader) next(n uint64) []byte {
	if !r.ok || n > uint64(len(r.b)) {
		r.ok = false
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *tzifReader) int32() int64 {
	if v := r.next(4); v != nil {
		return int64(int32(binary.BigEndian.Uint32(v)))
	}
	return 0
}

func (r *tzifReader) time(width uint64) int64 {
	if width == 4 {
		return r.int32()
	}
	if v := r.next(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// parseZoneFile accepts what glibc's __tzfile_read accepts, or returns nil.
func parseZoneFile(file []byte) *zoneFile {
	r := &tzifReader{b: file, ok: true}
	width := uint64(4)
	var counts [6]uint64 // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
	for {
		header := r.next(44)
		if header == nil || string(header[:4]) != "TZif" {
			return nil
		}
		for i := range counts {
			// glibc reads a signed int and makes it a size_t.
			counts[i] = uint64(int64(int32(binary.BigEndian.Uint32(header[20+4*i:]))))
		}
		if counts[0] > counts[4] || counts[1] > counts[4] {
			return nil
		}
		if width == 8 || header[4] == 0 {
			break
		}
		width = 8
		isutc, isstd, leaps, times, ntypes, chars := counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]
		skip := times*5 + ntypes*6 + chars + leaps*8 + isstd + isutc
		if skip > uint64(len(r.b)) {
			return nil
		}
		r.b = r.b[skip:]
	}
	isutc, isstd, leaps, times, ntypes, chars := counts[0], counts[1], counts[2], counts[3], counts[4], counts[5]
	if times > math.MaxInt32 || ntypes > math.MaxInt32 || chars > math.MaxInt32 || leaps > math.MaxInt32 {
		return nil // glibc's size checks; no real file comes near
	}
	var specLen uint64
	if width == 8 {
		rem := uint64(len(r.b))
		data := times*9 + ntypes*6 + chars
		if rem < data {
			return nil
		}
		specLen = rem - data
		if specLen < leaps*12 {
			return nil
		}
		specLen -= leaps * 12
		if specLen < isstd {
			return nil
		}
		specLen -= isstd
		if specLen == 0 || specLen-1 < isutc {
			return nil
		}
		specLen -= isutc + 1
		if specLen == 0 {
			return nil
		}
	}
	f := &zoneFile{transitions: make([]int64, times), types: make([]zoneType, ntypes), leaps: make([]leapSecond, leaps)}
	for i := range f.transitions {
		f.transitions[i] = r.time(width)
	}
	f.typeOf = r.next(times)
	for _, t := range f.typeOf {
		if uint64(t) >= ntypes {
			return nil
		}
	}
	for i := range f.types {
		f.types[i].offset = r.int32()
		b := r.next(2)
		if b == nil || b[0] > 1 || uint64(b[1]) > chars {
			return nil
		}
		f.types[i].dst = b[0] == 1
	}
	r.next(chars) // the zone names, which tai64nlocal does not print
	for i := range f.leaps {
		f.leaps[i].at = r.time(width)
		f.leaps[i].correction = r.int32()
	}
	for i := range isstd {
		if b := r.next(1); b != nil {
			f.types[i].std = b[0] != 0
		}
	}
	for i := range isutc {
		if b := r.next(1); b != nil {
			f.types[i].utc = b[0] != 0
		}
	}
	if !r.ok {
		return nil
	}
	if width == 8 {
		// "\nSPEC\n": glibc takes the specLen-1 bytes after the newline,
		// as a C string.
		if nl := r.next(1); nl != nil && nl[0] == '\n' {
			if spec := r.next(specLen - 1); spec != nil {
				if i := bytes.IndexByte(spec, 0); i >= 0 {
					spec = spec[:i]
				}
				if len(spec) > 0 {
					rules, _ := parseRules(string(spec), nil)
					f.spec = &rules
				}
			}
		}
	}
	f.stdoff = f.standardOffset()
	return f
}

// standardOffset is the offset of the last standard type transitioned to
// (the first type's when there are no transitions, 0 when none is
// standard).
func (f *zoneFile) standardOffset() int64 {
	if len(f.transitions) == 0 {
		if len(f.types) == 0 {
			return 0
		}
		return f.types[0].offset
	}
	for i := len(f.transitions) - 1; i >= 0; i-- {
		if t := f.types[f.typeOf[i]]; !t.dst {
			return t.offset
		}
	}
	return 0
}

// withOffsets turns posixrules into the zone of a TZ string that names
// its offsets but no rules, as glibc's __tzfile_default does: two types,
// the string's, and every transition given in local time moved by the
// difference between the file's offset and the string's. glibc takes the
// file's daylight offset from its own state (ruleDstoff): 0 before its
// first use of posixrules, the string's after, so only a first conversion
// moves daylight time's ends. The file's own TZ string still rules after
// its last transition, with the file's offsets. It fails for a file of
// fewer than two types.
func (f *zoneFile) withOffsets(stdoff, dstoff, ruleDstoff int64) bool {
	if len(f.types) < 2 {
		return false
	}
	dst := false
	for i, t := range f.typeOf {
		from := f.types[t]
		f.typeOf[i] = 0
		if from.dst {
			f.typeOf[i] = 1
		}
		switch {
		case from.utc:
		case dst && !from.std:
			f.transitions[i] += dstoff - ruleDstoff
		default:
			f.transitions[i] += stdoff - f.stdoff
		}
		dst = from.dst
	}
	f.types = []zoneType{{offset: stdoff}, {offset: dstoff, dst: true}}
	f.stdoff = stdoff
	return true
}

// local is glibc's __tzfile_compute followed by __offtime.
func (f *zoneFile) local(t int64) (Civil, bool) {
	offset := f.offsetAt(t)
	correction, hit := f.leapAt(t)
	c, ok := offtime(t, offset-correction)
	c.Second += hit
	return c, ok
}

func (f *zoneFile) offsetAt(t int64) int64 {
	n := len(f.transitions)
	switch {
	case n == 0 || t < f.transitions[0]:
		// Before any transition: the first standard type, else the first.
		for _, z := range f.types {
			if !z.dst {
				return z.offset
			}
		}
		if len(f.types) == 0 {
			return 0
		}
		return f.types[0].offset
	case t >= f.transitions[n-1]:
		if f.spec != nil {
			if utc, ok := offtime(t, 0); ok {
				r := *f.spec // glibc parses the string afresh each time
				return r.offsetAt(t, utc.Year)
			}
		}
		return f.types[f.typeOf[n-1]].offset
	}
	// The last transition at or before t.
	lo, hi := 0, n-1 // transitions[lo] <= t < transitions[hi]
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if t < f.transitions[mid] {
			hi = mid
		} else {
			lo = mid
		}
	}
	return f.types[f.typeOf[lo]].offset
}

// leapAt returns the leap seconds counted at t, and how many of them t is
// (a second shown as :60).
func (f *zoneFile) leapAt(t int64) (correction int64, hit int) {
	i := len(f.leaps) - 1
	for i >= 0 && t < f.leaps[i].at {
		i--
	}
	if i < 0 {
		return 0, 0
	}
	correction = f.leaps[i].correction
	var before int64
	if i > 0 {
		before = f.leaps[i-1].correction
	}
	if t == f.leaps[i].at && correction > before {
		hit = 1
		for i > 0 && f.leaps[i].at == f.leaps[i-1].at+1 && f.leaps[i].correction == f.leaps[i-1].correction+1 {
			hit++
			i--
		}
	}
	return correction, hit
}
