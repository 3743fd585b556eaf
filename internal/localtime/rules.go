package localtime

// The kinds of date in a rule, as glibc numbers them: a memset rule is
// dayOfYear 0.
const (
	dayOfYear    = iota // "n": day n of the year, counting from 0, Feb 29 included
	julianDay           // "Jn": day n from 1, Feb 29 never counted
	monthWeekDay        // "Mm.w.d": day d of week w of month m
)

// rule is one change of a TZ string, as glibc's tz_rule holds it,
// including what a half-parsed string leaves in it and the cache of the
// year the change was last computed for, which glibc consults even before
// it has computed anything.
type rule struct {
	kind        int
	m, n, d     uint16
	secs        int64 // time of day of the change, local
	offset      int64 // seconds east of UTC
	change      int64 // the change's Unix time in year computedFor
	computedFor int32
}

// rules are standard time [0] and daylight time [1].
type rules [2]rule

// offsetAt is glibc's __tz_compute: the offset in force at Unix time t,
// whose year in UTC is year.
func (r *rules) offsetAt(t, year int64) int64 {
	y := int32(1900 + int32(year-1900)) // C int arithmetic, wrapping
	r[0].compute(y)
	r[1].compute(y)
	var dst bool
	if r[0].change > r[1].change {
		// Southern hemisphere: daylight time spans the new year.
		dst = t < r[1].change || t >= r[0].change
	} else {
		dst = t >= r[0].change && t < r[1].change
	}
	if dst {
		return r[1].offset
	}
	return r[0].offset
}

// monthStart is glibc's __mon_yday as laid out in memory: days before each
// month (index m-1 for month m, 12 for the year's length), common years
// then leap years.
var monthStart = [26]uint16{
	0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365,
	0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366,
}

func monthTable(leap bool, i int) int64 {
	if leap {
		i += 13
	}
	if i < 0 || i >= len(monthStart) {
		return 0 // outside glibc's table: see undefined
	}
	return int64(monthStart[i])
}

// compute is glibc's compute_change, in C's int arithmetic where glibc
// uses int (it wraps only for years beyond about 5 million).
func (x *rule) compute(year int32) {
	if year != -1 && x.computedFor == year {
		return
	}
	var t int64
	if year > 1970 { // glibc counts every earlier year from 1970
		days := (year-1970)*365 + ((year-1)/4 - 1970/4) - ((year-1)/100 - 1970/100) + ((year-1)/400 - 1970/400)
		t = int64(days) * secondsPerDay
	}
	leap := isLeap(year)
	switch x.kind {
	case julianDay:
		t += (int64(x.d) - 1) * secondsPerDay
		if x.d >= 60 && leap {
			t += secondsPerDay
		}
	case dayOfYear:
		t += int64(x.d) * secondsPerDay
	case monthWeekDay:
		m := int32(x.m)
		t += monthTable(leap, int(m)-1) * secondsPerDay
		// Zeller's congruence: the weekday of the month's first day.
		m1 := (m+9)%12 + 1
		yy0 := year
		if m <= 2 {
			yy0--
		}
		yy1, yy2 := yy0/100, yy0%100
		dow := ((26*m1-2)/10 + 1 + yy2 + yy2/4 + yy1/4 - 2*yy1) % 7
		if dow < 0 {
			dow += 7
		}
		d := int32(x.d) - dow
		if d < 0 {
			d += 7
		}
		length := int32(monthTable(leap, int(m)) - monthTable(leap, int(m)-1))
		for i := uint16(1); i < x.n; i++ {
			if d+7 >= length {
				break
			}
			d += 7
		}
		t += int64(d) * secondsPerDay
	}
	x.change = t - x.offset + x.secs
	x.computedFor = year
}
