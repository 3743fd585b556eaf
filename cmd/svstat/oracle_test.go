package main

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

// Fixture bits of FuzzLikeReference's layout byte.
const (
	pinAge     = 1 << iota // bytes 0-7 become now - age, so the seconds are in reach
	supervised             // supervise/ok has a reader
	locked                 // supervise/lock is flocked
	normallyDn             // ./down exists
)

// svstat on any supervise/status, of any length, against Debian's: the
// same line, byte for byte. Both read the clock, so the reference runs
// before and after ours and ours must say what one of those said.
func FuzzLikeReference(f *testing.F) {
	now := tai64.Now()
	rec := func(pid uint32, paused, want byte) []byte {
		b := make([]byte, 12)
		now.Pack(b)
		b = binary.LittleEndian.AppendUint32(b, pid)
		return append(b, paused, want)
	}
	f.Add(rec(1234, 0, 'u'), byte(pinAge|supervised), int64(100))
	f.Add(rec(0, 0, 'u'), byte(pinAge|supervised|locked), int64(5))
	f.Add(rec(0, 0, 'd'), byte(pinAge|supervised|normallyDn), int64(0))
	f.Add(rec(77, 1, 'd'), byte(pinAge|supervised|normallyDn), int64(-30)) // from the future
	f.Add(rec(77, 2, 0), byte(supervised), int64(0))
	f.Add(rec(1<<31, 0, 'x'), byte(pinAge|supervised), int64(1)<<40)
	f.Add(rec(0, 1, 'd')[:17], byte(pinAge|supervised), int64(9))
	f.Add(append(rec(5, 0, 'u'), "and more"...), byte(pinAge|supervised|locked), int64(9))
	f.Add([]byte{}, byte(supervised), int64(0))
	// 2^62 seconds ago: daemontools' double rounds the count.
	f.Add(make([]byte, 18), byte(supervised), int64(0))
	f.Add(rec(3, 0, 'u'), byte(pinAge|supervised), int64(1)<<53+12345)
	f.Add(rec(5, 0, 'u'), byte(locked), int64(9)) // not running: the record is not read
	hang := svtest.Scaled(testbin.Hang)
	f.Fuzz(func(t *testing.T, record []byte, layout byte, age int64) {
		dir := t.TempDir()
		sup := filepath.Join(dir, "supervise")
		testbin.Must(t, os.Mkdir(sup, 0o700))
		if layout&pinAge != 0 && len(record) >= 8 {
			binary.BigEndian.PutUint64(record, tai64.Now().Sec-uint64(age))
		}
		testbin.Must(t, os.WriteFile(filepath.Join(sup, "status"), record, 0o644))
		ok := filepath.Join(sup, "ok")
		testbin.Must(t, syscall.Mkfifo(ok, 0o600))
		if layout&supervised != 0 {
			holdFIFO(t, ok)
		}
		if layout&locked != 0 {
			lock, err := os.OpenFile(filepath.Join(sup, "lock"), os.O_WRONLY|os.O_CREATE, 0o600)
			testbin.Must(t, err)
			defer lock.Close()
			testbin.Must(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
		}
		if layout&normallyDn != 0 {
			testbin.Must(t, os.WriteFile(filepath.Join(dir, "down"), nil, 0o644))
		}
		run := func(prog string) testbin.Result {
			return testbin.RunWithin(t, exec.Command(prog, dir), hang)
		}
		before := run(testbin.Reference(t, "svstat"))
		ours := run(testbin.Path(t, "svstat"))
		after := run(testbin.Reference(t, "svstat"))
		if ours != before && ours != after {
			t.Errorf("record %x, layout %#x:\nours: %+v\nref:  %+v\nthen: %+v", record, layout, ours, before, after)
		}
	})
}
