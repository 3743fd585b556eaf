package multilog

import (
	"bytes"
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
// 512 KB of it, however much goes through and whatever SIZE says.
func TestWindowMemoryPerDirectory(t *testing.T) {
	line := append(bytes.Repeat([]byte("x"), 99), '\n')
	for _, tc := range []struct {
		size  string
		total int // bytes written: many windows, a few rotations
	}{{"s16777215", 40 << 20}, {"s99999", 4 << 20}, {"s4096", 256 << 10}} {
		t.Run(tc.size, func(t *testing.T) {
			m, err := New(Parse([]string{tc.size, "n2", filepath.Join(t.TempDir(), "d")}), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			d, most := m.dirs[0], 0
			for written := 0; written < tc.total; written += len(line) {
				d.write(line)
				most = max(most, windowMemory(d))
			}
			if most > 512<<10 {
				t.Errorf("%d bytes of windows, want at most %d", most, 512<<10)
			}
			if tc.size == "s4096" && most > 4096 {
				t.Errorf("%d bytes of windows for a current of at most 4096", most)
			}
		})
	}
}
