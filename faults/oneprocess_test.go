package faults

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// kill -9 of svscan -1 under services with multilog loggers, each service
// writing numbered lines all along, and a new svscan -1: every service and
// logger is adopted (the same pids: nothing started twice), every one is
// supervised again within a second, and once the services stop writing
// every line is in its log, in order.
func TestOneProcessSvscanKill9(t *testing.T) {
	t.Parallel()
	needRoot(t)
	n := pick(30, 100)
	root := filepath.Join(t.TempDir(), "service")
	var dirs []string
	for i := range n {
		d := filepath.Join(root, fmt.Sprintf("s%03d", i))
		// Numbered lines until the file "stop" appears, then the count.
		svtest.NewService(t, d, `i=0
while [ ! -e stop ]; do echo $i; i=$((i+1)); sleep 0.05; done
echo end $i
exec sleep 100000`)
		svtest.NewService(t, filepath.Join(d, "log"), "exec "+prog(t, "multilog")+" ./main")
		dirs = append(dirs, d, d+"/log")
	}
	svscan := func() *proc { return start(t, exec.Command(prog(t, "svscan"), "-1", root)) }
	p := svscan()
	before := map[string]int{}
	svtest.WaitForNil(t, 30*time.Second, "every service up", func() error {
		for _, d := range dirs {
			st, err := svtest.WellFormedStatus(d)
			if err != nil || st.Pid == 0 {
				return fmt.Errorf("%s: %v pid %d", d, err, st.Pid)
			}
			before[d] = st.Pid
		}
		return nil
	})
	// Lines in flight at the kill: every logger has written one.
	svtest.WaitForNil(t, 30*time.Second, "a line in every log", func() error {
		for i := 0; i < len(dirs); i += 2 {
			current := filepath.Join(dirs[i], "log/main/current")
			if b, _ := os.ReadFile(current); !bytes.Contains(b, []byte("\n")) {
				return fmt.Errorf("%s: %q", current, b)
			}
		}
		return nil
	})
	p.Kill9(t)
	svscan()
	svtest.WaitForNil(t, time.Second, "every service supervised again", func() error {
		for _, d := range dirs {
			if code := svok(t, d); code != 0 {
				return fmt.Errorf("%s: svok exit %d", d, code)
			}
		}
		return nil
	})
	for _, d := range dirs {
		if st, err := svtest.WellFormedStatus(d); err != nil || st.Pid != before[d] {
			t.Errorf("%s: pid %d (%v), was %d: not adopted", d, st.Pid, err, before[d])
		}
	}
	for i := 0; i < len(dirs); i += 2 {
		testbin.Must(t, os.WriteFile(filepath.Join(dirs[i], "stop"), nil, 0o644))
	}
	for i := 0; i < len(dirs); i += 2 {
		current := filepath.Join(dirs[i], "log/main/current")
		var lines []string
		svtest.WaitForNil(t, 30*time.Second, current+" complete", func() error {
			b, _ := os.ReadFile(current)
			lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			if !strings.HasPrefix(lines[len(lines)-1], "end ") {
				return fmt.Errorf("last line %q", lines[len(lines)-1])
			}
			return nil
		})
		end := "end " + strconv.Itoa(len(lines)-1)
		for k, line := range lines[:len(lines)-1] {
			if line != strconv.Itoa(k) {
				t.Fatalf("%s: line %d is %q", current, k, line)
			}
		}
		if lines[len(lines)-1] != end {
			t.Errorf("%s: %q, want %q: lines lost", current, lines[len(lines)-1], end)
		}
	}
}
