// Package localtime turns Unix seconds into the local calendar time that
// the GNU C library's localtime(3) gives for a $TZ, which Go's time
// package cannot: POSIX TZ strings (TZ=JST-9, TZ='CET-1CEST,M3.5.0,M10.5.0/3',
// TZ='<+0530>-5:30'), zone files with leap seconds (TZ=right/UTC), the
// posixrules file for a TZ string without rules, and glibc's own ways with
// strings it only half understands. tai64nlocal needs exactly what
// daemontools' tai64nlocal prints, and that is what glibc computes.
package localtime

import (
	"io"
	"os"
	"strings"
)

// Where glibc looks: the zone for an unset $TZ, the directory of named
// zones (unless $TZDIR says otherwise), and the rules for a TZ string that
// names a daylight zone but gives no rules.
const (
	DefaultFile  = "/etc/localtime"
	DefaultDir   = "/usr/share/zoneinfo"
	defaultRules = "posixrules"
)

// Zone converts times as glibc does for one $TZ. It keeps glibc's cache of
// the year's changes, so it must not be used by two goroutines at once.
type Zone struct {
	file  *zoneFile // when a zone file (or posixrules) holds the zone
	first *zoneFile // posixrules as glibc has it for its first conversion
	rules rules     // when no file holds the zone
}

// UTC is the zone of an empty $TZ.
var UTC = &Zone{}

// Load returns the zone glibc's tzset sets up: tz and set as
// os.LookupEnv("TZ") returns them, tzdir as $TZDIR ("" for DefaultDir).
// It reads files only; anything that cannot be read falls back as glibc
// falls back, to a TZ string and then to UTC.
func Load(tz string, set bool, tzdir string) *Zone {
	if tzdir == "" {
		tzdir = DefaultDir
	}
	if !set {
		tz = DefaultFile
	} else if tz == "" {
		tz = "Universal"
	}
	tz = strings.TrimPrefix(tz, ":")
	if tz != "" {
		if f := readZoneFile(inDir(tzdir, tz)); f != nil {
			return &Zone{file: f}
		}
	}
	if tz == "" || tz == DefaultFile {
		return UTC
	}
	var defaults *Zone
	r, usedDefault := parseRules(tz, func(stdoff, dstoff int64) bool {
		// glibc redoes this for every conversion, with the daylight offset
		// the previous one left (none before the first).
		first, later := readZoneFile(inDir(tzdir, defaultRules)), readZoneFile(inDir(tzdir, defaultRules))
		if first == nil || later == nil || !first.withOffsets(stdoff, dstoff, 0) || !later.withOffsets(stdoff, dstoff, dstoff) {
			return false
		}
		defaults = &Zone{first: first, file: later}
		return true
	})
	if usedDefault {
		return defaults
	}
	return &Zone{rules: r}
}

func inDir(dir, name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return dir + "/" + name
}

// maxZoneFile bounds what is read of a zone file (tzdata's largest is a
// few kilobytes), so that TZ=/dev/zero fails as it does for glibc, which
// reads only what the header announces.
const maxZoneFile = 1 << 20

func readZoneFile(path string) *zoneFile {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxZoneFile))
	if err != nil {
		return nil
	}
	return parseZoneFile(b)
}

// Civil is a local calendar time as struct tm holds it. Second is 60
// during a leap second.
type Civil struct {
	Year                             int64
	Month, Day, Hour, Minute, Second int
}

// Local returns the local time of Unix second t, or false where glibc's
// localtime fails (a year that does not fit its int).
func (z *Zone) Local(t int64) (Civil, bool) {
	if z.first != nil {
		f := z.first
		z.first = nil
		return f.local(t)
	}
	if z.file != nil {
		return z.file.local(t)
	}
	utc, ok := offtime(t, 0)
	if !ok {
		return Civil{}, false
	}
	return offtime(t, z.rules.offsetAt(t, utc.Year))
}
