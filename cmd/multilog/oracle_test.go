package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

// Pieces that generated scripts are made of. Patterns and input use no hex
// digit and no '@', so that a pattern cannot tell one run's timestamps
// from the other's.
var (
	patternBytes = []byte("xy* \t")
	sizes        = []string{"0", "1", "100", "4096", "5000", "10000", "16777216"}
	nums         = []string{"0", "1", "2", "3", "5", "1000"}
	processors   = []string{"cat", "tr a-z A-Z", "cat; echo state >&5"}
)

// fuzzScript turns fuzz bytes into a multilog script: each byte picks an
// action, the next ones its argument. A directory action remembers the
// number of files it keeps.
func fuzzScript(b []byte) (script []string, keep map[string]int) {
	keep = map[string]int{}
	num := 10
	next := func() byte {
		if len(b) == 0 {
			return 0
		}
		c := b[0]
		b = b[1:]
		return c
	}
	for len(b) > 0 {
		switch op := next(); op % 12 {
		case 0, 1:
			p := []byte{"+-"[op%12]}
			for range next() % 6 {
				p = append(p, patternBytes[next()%byte(len(patternBytes))])
			}
			script = append(script, string(p))
		case 2:
			script = append(script, "e")
		case 3:
			script = append(script, "t")
		case 4:
			script = append(script, fmt.Sprintf("=f%d", next()%2))
		case 5:
			script = append(script, "s"+sizes[next()%byte(len(sizes))])
		case 6:
			n := nums[next()%byte(len(nums))]
			num, _ = strconv.Atoi(n)
			script = append(script, "n"+n)
		case 7:
			script = append(script, "!"+processors[next()%byte(len(processors))])
		case 8:
			script = append(script, string([]byte{'q' + next()%4})) // no action of daemontools'
		default:
			d := fmt.Sprintf("./d%d", len(keep))
			keep[d] = max(num, 2)
			script = append(script, d)
		}
	}
	return script, keep
}

var stamp = regexp.MustCompile(`@[0-9a-fA-F]{24}`)

// logDir is what one log directory holds once multilog has exited.
type logDir struct {
	layout []string // every file but lock and the @ files, with its mode
	kinds  []string // of @ file, with their modes
	logged []byte   // the @ files in order, then current
	old    int      // how many @ files
	state  []byte
}

func readLogDir(t *testing.T, dir string) logDir {
	t.Helper()
	entries, err := os.ReadDir(dir)
	testbin.Must(t, err)
	var d logDir
	var current []byte
	for _, e := range entries {
		info, err := e.Info()
		testbin.Must(t, err)
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		testbin.Must(t, err)
		switch name := e.Name(); {
		case name == "lock":
		case strings.HasPrefix(name, "@"):
			d.old++
			d.logged = append(d.logged, b...)
			d.kinds = append(d.kinds, fmt.Sprintf("@%s %v", name[25:], info.Mode()))
		case name == "current":
			current = b
			d.layout = append(d.layout, fmt.Sprintf("%s %v", name, info.Mode()))
		case name == "state":
			d.state = b
			d.layout = append(d.layout, fmt.Sprintf("%s %v", name, info.Mode()))
		default:
			d.layout = append(d.layout, fmt.Sprintf("%s %v %q", name, info.Mode(), b))
		}
	}
	slices.Sort(d.kinds)
	d.kinds = slices.Compact(d.kinds)
	d.logged = stamp.ReplaceAll(append(d.logged, current...), []byte("@T"))
	return d
}

// multilog with a generated script on generated input, against Debian's:
// the same messages, exit code, = files and log directories. Where
// daemontools rotates depends on how its reads were split (it counts only
// the bytes it has flushed, and flushes before each read), so two runs of
// it on the same input can cut current at different lines; what each
// directory logged must be the same, and only the oldest lines, which a
// directory full of old files deleted, may be missing from one of them.
func FuzzScriptLikeReference(f *testing.F) {
	f.Add([]byte{3, 2, 0, 3, 2, 0, 1, 4, 1, 9}, []byte("one\ntwo\n*x y\tz\n\x00\n"), uint16(0))
	f.Add([]byte{5, 3, 6, 2, 7, 0, 9, 7, 1, 9}, []byte("a line\nx\ny\n"), uint16(9000))
	f.Add([]byte{3, 5, 3, 6, 3, 7, 2, 9, 1, 2, 1, 0, 9}, []byte("\nstart\nx y\nno newline"), uint16(1500))
	f.Add([]byte{4, 0, 2, 2, 8, 1, 11}, []byte("x\ny z\n"), uint16(1100))
	f.Add([]byte{6, 2, 5, 2, 9, 7, 2, 10}, bytes.Repeat([]byte("some words\n"), 800), uint16(3000))
	ours, ref := testbin.Path(f, "multilog"), testbin.Reference(f, "multilog")
	f.Fuzz(func(t *testing.T, program, input []byte, stretch uint16) {
		if len(program) > 40 || len(input) > 1<<16 {
			return // big enough for every case; more only costs time
		}
		script, keep := fuzzScript(program)
		// One line that may pass every limit: 1000 matched, 200 for e, the
		// size of current.
		at := len(input) / 2
		input = slices.Concat(input[:at], bytes.Repeat([]byte{'y'}, int(stretch)%20000), input[at:])
		type outcome struct {
			res   result
			files map[string][]byte
			dirs  map[string]logDir
		}
		run := func(prog string) outcome {
			dir := t.TempDir()
			o := outcome{res: runLog(t, prog, dir, input, script...), files: map[string][]byte{}, dirs: map[string]logDir{}}
			o.res.stderr = stamp.ReplaceAllString(o.res.stderr, "@T")
			entries, err := os.ReadDir(dir)
			testbin.Must(t, err)
			for _, e := range entries {
				if e.IsDir() {
					o.dirs[e.Name()] = readLogDir(t, filepath.Join(dir, e.Name()))
					continue
				}
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				testbin.Must(t, err)
				o.files[e.Name()] = stamp.ReplaceAll(b, []byte("@T"))
			}
			return o
		}
		got, want := run(ours), run(ref)
		if got.res != want.res {
			t.Errorf("script %q: stderr and code:\nours: %q %d\nref:  %q %d", script, got.res.stderr, got.res.code, want.res.stderr, want.res.code)
		}
		for name, b := range want.files {
			if !bytes.Equal(got.files[name], b) {
				t.Errorf("script %q: file %s:\nours: %q\nref:  %q", script, name, got.files[name], b)
			}
		}
		if len(got.files) != len(want.files) || len(got.dirs) != len(want.dirs) {
			t.Errorf("script %q: ours made %d files and %d directories, the reference %d and %d", script, len(got.files), len(got.dirs), len(want.files), len(want.dirs))
		}
		for name, w := range want.dirs {
			g, ok := got.dirs[name]
			if !ok {
				continue // counted above
			}
			if !slices.Equal(g.layout, w.layout) {
				t.Errorf("script %q: %s holds\n%q\nreference:\n%q", script, name, g.layout, w.layout)
			}
			if g.old > 0 && w.old > 0 && !slices.Equal(g.kinds, w.kinds) {
				t.Errorf("script %q: %s has old files %q, reference %q", script, name, g.kinds, w.kinds)
			}
			full := keep["./"+name] - 1 // old files a directory keeps
			switch i := firstDifference(g.logged, w.logged); {
			case i < 0:
			case g.old < full && w.old < full:
				t.Errorf("script %q: %s logged %d bytes, reference %d; from byte %d:\nours: %.200q\nref:  %.200q",
					script, name, len(g.logged), len(w.logged), i, g.logged[i:], w.logged[i:])
			case !bytes.HasSuffix(g.logged, w.logged) && !bytes.HasSuffix(w.logged, g.logged):
				t.Errorf("script %q: %s logged %d bytes, reference %d, neither the end of the other", script, name, len(g.logged), len(w.logged))
			}
			if (g.old == 0) == (w.old == 0) && !bytes.Equal(g.state, w.state) {
				t.Errorf("script %q: %s/state %q, reference %q", script, name, g.state, w.state)
			}
		}
	})
}
