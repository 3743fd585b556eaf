package multilog

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"
)

// windowMemory is what d's windows take, kept, spare or being filled.
func windowMemory(d *logDir) int {
	total := cap(d.buf)
	for _, w := range append(d.kept, d.spare...) {
		total += cap(w)
	}
	return total
}

// A log directory keeps what the disk may still drop, and no more than
// 512 KB of it for each directory beyond the first, however much goes
// through and whatever SIZE says.
func TestWindowMemoryPerDirectory(t *testing.T) {
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	for _, tc := range []struct {
		size  string
		dirs  int
		total int // bytes written: many windows, a few rotations
	}{
		{"s16777215", 1, 40 << 20}, {"s16777215", 2, 40 << 20}, {"s16777215", 5, 40 << 20}, {"s16777215", 50, 40 << 20},
		{"s99999", 50, 4 << 20}, {"s4096", 50, 256 << 10},
	} {
		t.Run(fmt.Sprint(tc.size, " ", tc.dirs), func(t *testing.T) {
			args := []string{tc.size, "n2"}
			for i := range tc.dirs {
				args = append(args, filepath.Join(t.TempDir(), fmt.Sprint("d", i)))
			}
			m, err := New(Parse(args), 1, io.Discard, Pause)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			d, most := m.dirs[0], 0 // every directory takes the same
			for written := 0; written < tc.total; written += len(line) {
				d.write(line)
				most = max(most, windowMemory(d))
			}
			if bound := 2<<20 + (tc.dirs-1)*(512<<10); most*tc.dirs > bound {
				t.Errorf("%d directories of %d bytes of windows, want at most %d in all", tc.dirs, most, bound)
			}
			if tc.size == "s4096" && most > 4096 {
				t.Errorf("%d bytes of windows for a current of at most 4096", most)
			}
		})
	}
}
