package localtime

// parseRules reads a POSIX TZ string as glibc's __tzset_parse_tz does,
// leniently and keeping whatever a half-read string has set: a string it
// cannot read from the start is UTC, one whose daylight part it cannot
// read keeps glibc's odd state (standard offset, daylight offset 0).
// Where a daylight name comes without rules, glibc takes the changes from
// the posixrules file: parseRules then calls useDefault with the offsets
// and, if it returns true, stops there with usedDefault. useDefault may be
// nil (a zone file's own TZ string, which always has rules).
func parseRules(s string, useDefault func(stdoff, dstoff int64) bool) (r rules, usedDefault bool) {
	p := tzParser{s: s}
	if !p.name() || !p.offset(&r, 0) {
		return r, false
	}
	if p.end() {
		r[1].offset = r[0].offset // no daylight time
		return r, false
	}
	if p.name() {
		p.offset(&r, 1)
		if p.end() || p.rest() == "," {
			if useDefault != nil && useDefault(r[0].offset, r[1].offset) {
				return r, true
			}
		}
	}
	if p.rule(&r[0], true) {
		p.rule(&r[1], false)
	}
	return r, false
}

type tzParser struct {
	s string
	i int
}

func (p *tzParser) end() bool    { return p.i >= len(p.s) || p.s[p.i] == 0 }
func (p *tzParser) rest() string { return p.s[p.i:] }
func (p *tzParser) peek() byte {
	if p.end() {
		return 0
	}
	return p.s[p.i]
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// name reads a zone name: three or more letters, or three or more letters,
// digits and signs between < and >. Names do not show in tai64nlocal's
// output, so only their extent matters.
func (p *tzParser) name() bool {
	j := p.i
	for j < len(p.s) && isAlpha(p.s[j]) {
		j++
	}
	if j-p.i >= 3 {
		p.i = j
		return true
	}
	if p.peek() != '<' {
		return false
	}
	j = p.i + 1
	for j < len(p.s) && (isAlpha(p.s[j]) || isDigit(p.s[j]) || p.s[j] == '+' || p.s[j] == '-') {
		j++
	}
	if j >= len(p.s) || p.s[j] != '>' || j-(p.i+1) < 3 {
		return false
	}
	p.i = j + 1
	return true
}

// offset reads the offset of rule which ([+-]hh[:mm[:ss]], west positive):
// hours beyond 24 count as 24, minutes and seconds beyond 59 as 59. A
// daylight offset that is missing is an hour ahead of standard time.
func (p *tzParser) offset(r *rules, which int) bool {
	c := p.peek()
	if which == 0 && c != '+' && c != '-' && !isDigit(c) {
		return false
	}
	sign := int64(-1)
	if c == '+' || c == '-' {
		if c == '-' {
			sign = 1
		}
		p.i++
	}
	hh, mm, ss, n, consumed := p.scanClock()
	if n == 0 {
		if which == 0 {
			r[0].offset = 0
			return false
		}
		r[1].offset = r[0].offset + 3600
	} else {
		r[which].offset = sign * (int64(min(ss, 59)) + int64(min(mm, 59))*60 + int64(min(hh, 24))*3600)
	}
	p.i += consumed
	return true
}

// scanClock is sscanf(s, "%hu%n:%hu%n:%hu%n", ...): the fields it could
// convert (n of them, mm and ss staying 0 when missing) and the bytes
// consumed up to the last one.
func (p *tzParser) scanClock() (hh, mm, ss uint16, n, consumed int) {
	at := p.i
	fields := [3]*uint16{&hh, &mm, &ss}
	for k, field := range fields {
		if k > 0 {
			if at >= len(p.s) || p.s[at] != ':' {
				break
			}
			at++
		}
		v, next, ok := scanUshort(p.s, at)
		if !ok {
			break
		}
		*field = v
		n++
		at = next
		consumed = at - p.i
	}
	return hh, mm, ss, n, consumed
}

// scanUshort is sscanf's "%hu" at s[i:]: white space skipped, an optional
// sign, decimal digits; the value as strtoul gives it (negated modulo 2^64
// after a minus, all ones when too big) cut to 16 bits.
func scanUshort(s string, i int) (v uint16, next int, ok bool) {
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	negative := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		negative = s[i] == '-'
		i++
	}
	start := i
	var x uint64
	overflow := false
	for i < len(s) && isDigit(s[i]) {
		d := uint64(s[i] - '0')
		if x > (1<<64-1-d)/10 {
			overflow = true
		}
		x = x*10 + d
		i++
	}
	if i == start {
		return 0, i, false
	}
	switch {
	case overflow:
		x = 1<<64 - 1
	case negative:
		x = -x
	}
	return uint16(x), i, true
}

// rule reads one change: "Jn", "n" or "Mm.w.d", then "/time" (default
// 02:00). An empty string is the United States' rule of 2007, March's
// second Sunday for standard's end (first) and November's first for
// daylight's. A rule rejected half-way keeps what was set of it.
func (p *tzParser) rule(x *rule, first bool) bool {
	if p.peek() == ',' {
		p.i++
	}
	c := p.peek()
	switch {
	case c == 'J' || isDigit(c):
		x.kind = dayOfYear
		if c == 'J' {
			x.kind = julianDay
			p.i++
			if !isDigit(p.peek()) {
				return false
			}
		}
		j := p.i
		var d uint64
		for j < len(p.s) && isDigit(p.s[j]) && d <= 365 {
			d = d*10 + uint64(p.s[j]-'0')
			j++
		}
		if d > 365 || x.kind == julianDay && d == 0 {
			return false
		}
		x.d = uint16(d)
		p.i = j
	case c == 'M':
		x.kind = monthWeekDay
		at := p.i + 1
		var fields [3]uint16
		targets := [3]*uint16{&x.m, &x.n, &x.d}
		for k := range fields {
			if k > 0 {
				if at >= len(p.s) || p.s[at] != '.' {
					return false
				}
				at++
			}
			v, next, ok := scanUshort(p.s, at)
			if !ok {
				return false
			}
			*targets[k] = v
			at = next
		}
		if x.m < 1 || x.m > 12 || x.n < 1 || x.n > 5 || x.d > 6 {
			return false
		}
		p.i = at
	case p.end():
		x.kind = monthWeekDay
		if first {
			x.m, x.n, x.d = 3, 2, 0
		} else {
			x.m, x.n, x.d = 11, 1, 0
		}
	default:
		return false
	}
	switch c := p.peek(); {
	case p.end() || c == ',':
		x.secs = 2 * 3600
	case c == '/':
		p.i++
		if p.end() {
			return false
		}
		negative := p.peek() == '-'
		if negative {
			p.i++
		}
		hh, mm, ss, n, consumed := p.scanClock()
		if n == 0 {
			hh = 2
		}
		p.i += consumed
		x.secs = int64(hh)*3600 + int64(mm)*60 + int64(ss)
		if negative {
			x.secs = -x.secs
		}
	default:
		return false
	}
	x.computedFor = -1
	return true
}
