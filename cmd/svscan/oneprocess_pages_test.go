package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
)

// codeMapped returns how much of the read-only mappings of pid's
// executable (its code and constant data) is mapped, and their size, in
// KiB, from /proc/PID/smaps.
func codeMapped(t *testing.T, pid int) (rss, size int) {
	t.Helper()
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inCode := false
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		switch {
		case len(fields) >= 5 && strings.Contains(fields[0], "-"):
			inCode = strings.HasSuffix(lines.Text(), " "+exe) && fields[1][1] == '-'
		case inCode && len(fields) == 3 && (fields[0] == "Rss:" || fields[0] == "Size:"):
			kib, _ := strconv.Atoi(fields[1])
			if fields[0] == "Rss:" {
				rss += kib
			} else {
				size += kib
			}
		}
	}
	if size == 0 {
		t.Fatalf("no read-only mapping of %s in /proc/%d/smaps", exe, pid)
	}
	return rss, size
}

// Once its first scan is done, svscan -1 leaves mapped only the code it
// runs from then on, not nearly all of the executable that starting up
// mapped: an idle svscan runs a small part of it.
func TestOneProcessUnmapsCode(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "service")
	makeService(t, filepath.Join(dir, "a"), "exec sleep 1000", "")
	makeService(t, filepath.Join(dir, "b"), "exec sleep 1000", "")
	s := startScanner(t, []string{"-1", dir})
	waitUp(t, 5*time.Second, dir+"/a", dir+"/b")
	var rss, size int
	if !svtest.Poll(5*time.Second, func() bool {
		rss, size = codeMapped(t, s.Pid())
		return rss < size*3/4
	}) {
		t.Errorf("svscan -1 maps %d KiB of its executable's %d KiB of code and constants", rss, size)
	}
	t.Logf("svscan -1 maps %d KiB of its executable's %d KiB of code and constants", rss, size)
}
