package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// logInput writes n lines of about 90 bytes, numbered, to path.
func logInput(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "%08d service said something of an ordinary length, like a daemon does every so often\n", i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// A logger is one way to write the input into a log directory: timestamps,
// files of 16 MB (16777215 bytes, multilog's largest), 10 kept.
type logger struct {
	name  string // column
	argv  func(dir string) []string
	setup func(dir string) error
}

func loggers(fams []*family) []logger {
	var ls []logger
	for _, f := range fams {
		prog := f.logger
		l := logger{name: f.name}
		switch filepath.Base(prog) {
		case "multilog":
			l.argv = func(dir string) []string { return []string{prog, "t", "s16777215", "n10", dir} }
		case "svlogd":
			l.argv = func(dir string) []string { return []string{prog, "-t", dir} }
			l.setup = func(dir string) error {
				return os.WriteFile(filepath.Join(dir, "config"), []byte("s16777215\nn10\n"), 0o644)
			}
		case "s6-log":
			l.argv = func(dir string) []string { return []string{prog, "n10", "s16777215", "t", dir} }
		default: // not built yet
		}
		ls = append(ls, l)
	}
	return ls
}

// logging times each logger (and a plain copy, the limit) on the input,
// taking turns, and checks that every line reached the log directory.
// Returns median milliseconds per logger name, "copy" for the copy.
func logging(fams []*family, work, input string, lines, rounds int) (map[string]float64, error) {
	copyAll := logger{name: "copy", argv: func(dir string) []string {
		return []string{"/bin/sh", "-c", "exec cat >" + filepath.Join(dir, "current")}
	}}
	all := append(loggers(fams), copyAll)
	times := map[string][]float64{}
	for range rounds {
		for _, l := range all {
			if l.argv == nil {
				continue
			}
			dir := filepath.Join(work, "log-"+l.name)
			if err := os.RemoveAll(dir); err != nil {
				return nil, err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			if l.setup != nil {
				if err := l.setup(dir); err != nil {
					return nil, err
				}
			}
			in, err := os.Open(input)
			if err != nil {
				return nil, err
			}
			argv := l.argv(dir)
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stdin = in
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			t0 := time.Now()
			err = cmd.Run()
			elapsed := time.Since(t0)
			in.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %v: %v: %s", l.name, argv, err, stderr.Bytes())
			}
			got, err := countLines(dir)
			if err != nil {
				return nil, err
			}
			if got != lines {
				return nil, fmt.Errorf("%s: %d lines logged, want %d", l.name, got, lines)
			}
			times[l.name] = append(times[l.name], ms(elapsed))
		}
	}
	return medians(times), nil
}

// countLines counts the lines of the current and rotated files in a log
// directory (those named current or starting with @).
func countLines(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if name := e.Name(); name != "current" && name[0] != '@' {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		n += bytes.Count(b, []byte{'\n'})
	}
	return n, nil
}
