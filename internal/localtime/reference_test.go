package localtime

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// The tests here compare Zone with glibc's localtime through the oracle,
// Debian's daemontools tai64nlocal, which prints exactly what localtime
// returns (and crashes where it returns nothing).

// format prints c as daemontools' tai64nlocal does.
func format(c Civil) string {
	return fmt.Sprintf("%d-%02d-%02d %02d:%02d:%02d", uint64(int64(int32(c.Year))), c.Month, c.Day, c.Hour, c.Minute, c.Second)
}

// ours returns the lines Zone gives for times, "" where it has no time.
func ours(z *Zone, times []int64) []string {
	lines := make([]string, len(times))
	for i, t := range times {
		if c, ok := z.Local(t); ok {
			lines[i] = format(c)
		}
	}
	return lines
}

// reference returns the lines /usr/bin/tai64nlocal prints for times under
// TZ=tz (unset when !set), without the nanoseconds.
func reference(t testing.TB, tz string, set bool, times []int64) []string {
	t.Helper()
	var in bytes.Buffer
	for _, s := range times {
		in.Write(tai64.Label{Sec: uint64(s) + tai64.Offset}.AppendExternal(nil))
		in.WriteByte('\n')
	}
	cmd := exec.Command(testbin.Reference(t, "tai64nlocal"))
	cmd.Env = []string{}
	if set {
		cmd.Env = []string{"TZ=" + tz}
	}
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("TZ=%q: reference tai64nlocal: %v", tz, err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(times) {
		t.Fatalf("TZ=%q: reference printed %d lines for %d times", tz, len(lines), len(times))
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, ".000000000")
	}
	return lines
}

// compare fails the test at the first few times where Zone and the
// reference disagree.
func compare(t testing.TB, tz string, set bool, times []int64) {
	t.Helper()
	got, want := ours(Load(tz, set, ""), times), reference(t, tz, set, times)
	bad := 0
	for i := range times {
		if got[i] != want[i] {
			t.Errorf("TZ=%q at %d: ours %q, reference %q", tz, times[i], got[i], want[i])
			if bad++; bad == 3 {
				return
			}
		}
	}
}

// Limits of glibc's struct tm and of daemontools' printing of it: from
// wrapYear on, 1900 + tm_year overflows C's int and the reference prints a
// 20-digit year; before firstTime (local time) localtime fails and the
// reference crashes.
const (
	wrapYear  = 67_767_976_233_532_800  // 2147483648-01-01 00:00:00 UTC
	firstTime = -67_768_040_609_740_800 // -2147481748-01-01 00:00:00 UTC
)

// commonTimes spans years 1 to 9999, more densely 1890 to 2110, with the
// instants just around each year's start, and a few of the years up to
// glibc's limits, where its int arithmetic wraps.
func commonTimes(rng *rand.Rand, n int) []int64 {
	times := []int64{0, -1, 1, 1_700_000_000, -2_208_988_800, -62_135_596_800, 253_402_300_799, 2_147_483_647, 2_147_483_648, -2_147_483_649,
		wrapYear - 1, wrapYear, wrapYear + 40_000_000, firstTime + 2*86400, firstTime + 40_000_000, rng.Int64N(wrapYear), -rng.Int64N(-firstTime - 86400)}
	for year := int64(1890); year <= 2110; year += 3 {
		start := (year - 1970) * 31_556_952
		times = append(times, start-86400, start, start+86400)
	}
	for range n {
		if rng.IntN(4) == 0 {
			times = append(times, rng.Int64N(315_537_897_600)-62_135_596_800)
		} else {
			times = append(times, rng.Int64N(6_942_000_000)-2_524_000_000)
		}
	}
	return times
}

// around returns each of points with the seconds just before and after.
func around(points []int64) []int64 {
	var times []int64
	for _, p := range points {
		times = append(times, p-3601, p-1, p, p+1, p+3599)
	}
	return times
}

// TZ strings from the issue and from glibc's manual, half-understood ones
// whose leftovers glibc keeps, and strings that fall back to a file, to
// posixrules or to UTC.
var tzStrings = []string{
	"JST-9", "CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30", "EST5EDT", "EST5EDT4,M3.2.0/2,M11.1.0/2",
	"NZST-12NZDT,M9.5.0,M4.1.0/3", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1", "IST-2IDT,M3.4.4/26,M10.5.0",
	"WGT3WGST,M3.5.0/-2,M10.5.0/-1", "AAA+5BBB-1,J60/25,300/-3:30", "AAA-5BBB,0,365", "AAA3BBB", "AAA3BBB,",
	"EST5x", "EST5,M3.2.0,M11.1.0", "XXX-25:70:99", "XXX+24BBB-24:59:59,M1.1.0/-65535:59:59,M12.5.6/65535",
	"AAA 5", "AAA- 5:+3", "AAA--1", "AAA5BBB,M3.2", "AAA5BBB,J0", "AAA5BBB,M3.2.0/", "AAA5BBB,M3.2.0/x,M11.1.0",
	"AB1", "<AB>1", "<A+B>-2<C-D>,M4.1.0,M9.5.6/23", "UTC0", "GMT+0", "", ":", "Universal", "garbage",
	":Europe/Paris", "/usr/share/zoneinfo/Asia/Tokyo", "America", "../zoneinfo/UTC",
}

// undefined reports whether glibc would compute a change from outside its
// month table (a month beyond 1..12 left by a string it rejected half-way):
// what it prints then depends on memory next to the table.
func (r *rules) undefined() bool {
	for _, x := range r {
		if x.kind == monthWeekDay && (x.m < 1 || x.m > 12) {
			return true
		}
	}
	return false
}

// FuzzTZMatchesReference gives Zone and glibc the same $TZ, the strings
// above and the fuzzer's, and compares them across the years and around
// the rules' changes. Run it with go test -fuzz=FuzzTZ; what it finds
// stays in testdata/fuzz as a regression input.
func FuzzTZMatchesReference(f *testing.F) {
	for _, tz := range tzStrings {
		f.Add(tz)
	}
	times := commonTimes(rand.New(rand.NewPCG(1, 2)), 100)
	f.Fuzz(func(t *testing.T, tz string) {
		if strings.IndexByte(tz, 0) >= 0 {
			return // no environment variable holds a NUL
		}
		z := Load(tz, true, "")
		if z.file == nil && z.rules.undefined() {
			return // glibc reads past its month table
		}
		all := times
		if z.file == nil {
			var changes []int64
			for _, year := range []int32{1969, 1970, 1971, 2000, 2024, 2100} {
				r := z.rules
				r[0].compute(year)
				r[1].compute(year)
				changes = append(changes, r[0].change, r[1].change)
			}
			all = append(around(changes), times...)
		}
		compare(t, tz, true, all)
	})
}

// Where the reference crashes, Zone has no time.
func TestNoTimeBeyondGlibcYears(t *testing.T) {
	for _, tz := range []string{"UTC", "JST-9", "CET-1CEST,M3.5.0,M10.5.0/3", "right/UTC"} {
		z := Load(tz, true, "")
		for _, sec := range []int64{firstTime - 1, firstTime - 86400*400, 1 << 62, -1 << 62} {
			if c, ok := z.Local(sec); ok {
				t.Errorf("TZ=%s: %d is %+v, want no time", tz, sec, c)
			}
		}
	}
}

func TestUnsetTZMatchesReference(t *testing.T) {
	compare(t, "", false, commonTimes(rand.New(rand.NewPCG(5, 6)), 100))
}

// Zone files, Europe's all and others sampled, leap-second
// ones too: around each transition and leap second, and across the years.
func TestZoneFilesMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var names []string
	err := filepath.WalkDir(DefaultDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(path, DefaultDir+"/")
		// A sample, for speed: Europe, a third of the rest, a tenth of right/.
		switch {
		case strings.HasPrefix(name, "posix/"):
			return nil
		case strings.HasPrefix(name, "right/"):
			if rng.IntN(10) != 0 {
				return nil
			}
		case rng.IntN(3) != 0 && !strings.HasPrefix(name, "Europe/"):
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && bytes.HasPrefix(b, []byte("TZif")) {
			names = append(names, name)
		}
		return nil
	})
	testbin.Must(t, err)
	if len(names) < 200 || !strings.Contains(strings.Join(names, " "), "right/") {
		t.Fatalf("only %d zone files under %s, right/ among them? (apt-get install tzdata)", len(names), DefaultDir)
	}
	for _, name := range names {
		z := Load(name, true, "")
		if z.file == nil {
			t.Errorf("%s: not read as a zone file", name)
			continue
		}
		var points []int64
		for i, tr := range z.file.transitions {
			if i%3 == 0 || i > len(z.file.transitions)-6 {
				points = append(points, tr)
			}
		}
		for _, l := range z.file.leaps {
			points = append(points, l.at)
		}
		compare(t, name, true, append(around(points), commonTimes(rng, 40)...))
	}
}
