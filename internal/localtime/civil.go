package localtime

import "math"

const secondsPerDay = 86400

// offtime is glibc's __offtime: the calendar time of t+offset seconds after
// the epoch, false when the year minus 1900 does not fit a C int.
func offtime(t, offset int64) (Civil, bool) {
	days := t / secondsPerDay
	rem := t%secondsPerDay + offset
	for rem < 0 {
		rem += secondsPerDay
		days--
	}
	for rem >= secondsPerDay {
		rem -= secondsPerDay
		days++
	}
	year, month, day := fromDays(days)
	if year-1900 < math.MinInt32 || year-1900 > math.MaxInt32 {
		return Civil{}, false
	}
	return Civil{
		Year: year, Month: month, Day: day,
		Hour: int(rem / 3600), Minute: int(rem % 3600 / 60), Second: int(rem % 60),
	}, true
}

// fromDays returns the proleptic Gregorian date days after 1970-01-01.
func fromDays(days int64) (year int64, month, day int) {
	// Count from 0000-03-01 in 400-year eras, so that leap days come last.
	const daysPerEra = 146097
	z := days + 719468
	era := z / daysPerEra
	if z%daysPerEra < 0 {
		era--
	}
	doe := z - era*daysPerEra                              // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365], from March 1
	mp := (5*doy + 2) / 153                                // [0, 11], March is 0
	day = int(doy - (153*mp+2)/5 + 1)
	month = int(mp + 3)
	if month > 12 {
		month -= 12
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month, day
}

// isLeap is glibc's __isleap, with C's truncating remainder.
func isLeap(year int32) bool {
	return year%4 == 0 && (year%100 != 0 || year%400 == 0)
}
