package settings_test

import (
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/settings"
	"daemontools/internal/testbin"
)

// The one rule for milliseconds, that of every file that holds them.
func TestMillis(t *testing.T) {
	for _, c := range []struct {
		line string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"300", 300 * time.Millisecond, true},
		{"007", 7 * time.Millisecond, true},
		{"2147483647", settings.MaxMillis * time.Millisecond, true},
		{"2147483648", 0, false}, // past the cap
		{"4294967295", 0, false}, // svscan's stop took it before
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"-1", 0, false},
		{"+5", 0, false},
		{"1_000", 0, false},
		{"0x10", 0, false},
		{"5 ms", 0, false},
		{"1.5", 0, false},
	} {
		got, err := settings.Millis(c.line)
		if ok := err == nil; got != c.want || ok != c.ok {
			t.Errorf("Millis(%q) = %v, %v; want %v, ok %v", c.line, got, err, c.want, c.ok)
		}
		if err != nil && err != settings.ErrNotMillis {
			t.Errorf("Millis(%q): error %v", c.line, err)
		}
	}
}

// Millis takes exactly the strings of decimal digits up to MaxMillis.
func FuzzMillis(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		got, err := settings.Millis(line)
		digits := line != "" && strings.Trim(line, "0123456789") == ""
		n, _ := new(big.Int).SetString(line, 10)
		want := digits && n.Cmp(big.NewInt(settings.MaxMillis)) <= 0
		switch {
		case want != (err == nil):
			t.Fatalf("Millis(%q): %v, %v", line, got, err)
		case want && got != time.Duration(n.Int64())*time.Millisecond:
			t.Fatalf("Millis(%q) = %v", line, got)
		}
	})
}

// ReadLine gives the first line without blanks; a missing file is
// ENOENT, and a FIFO with no writer reads as empty at once.
func TestReadLine(t *testing.T) {
	dir := t.TempDir()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testbin.Must(t, err)
	defer unix.Close(fd)
	write := func(name, content string) {
		testbin.Must(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	write("two", " \t300 \nlater lines\n")
	write("none", "")
	write("long", strings.Repeat("1", 200))
	testbin.Must(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	for _, c := range []struct{ name, want string }{
		{"two", "300"},
		{"none", ""},
		{"long", strings.Repeat("1", 128)},
		{"fifo", ""},
	} {
		if got, err := settings.ReadLine(fd, c.name); got != c.want || err != nil {
			t.Errorf("ReadLine(%s) = %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if got, err := settings.ReadLine(unix.AT_FDCWD, filepath.Join(dir, "two")); got != "300" || err != nil {
		t.Errorf("ReadLine(AT_FDCWD, full path) = %q, %v", got, err)
	}
	if _, err := settings.ReadLine(fd, "missing"); !errors.Is(err, unix.ENOENT) {
		t.Errorf("ReadLine(missing): %v, want ENOENT", err)
	}
	if _, err := settings.ReadLine(fd, "."); !errors.Is(err, unix.EISDIR) {
		t.Errorf("ReadLine(a directory): %v, want EISDIR", err)
	}
}
