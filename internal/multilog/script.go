// Package multilog implements daemontools' multilog: a script of actions
// applied to every input line, and log directories with rotation, a
// processor and crash recovery. A line read is never dropped or reordered:
// disk trouble pauses and retries, and when stdin is a pipe input stays in
// the pipe until it has been written, so kill -9 loses nothing.
package multilog

import "strconv"

// Action kinds of a script.
const (
	actDeselect = iota // -pattern
	actSelect          // +pattern
	actStderr          // e
	actStatus          // =file
	actDir             // ./dir or /dir
)

// Defaults and limits of the rotation settings.
const (
	DefaultSize = 99999
	MinSize     = 4096
	MaxSize     = 16777215
	DefaultNum  = 10
	MinNum      = 2
)

// Action is one step of a script. Arg is the pattern, status file or
// directory; Dir is the index into Script.Dirs for directory actions.
type Action struct {
	Kind int
	Arg  string
	Dir  int
}

// DirConfig is the rotation setting that applies to one log directory.
type DirConfig struct {
	Path      string
	Size      int64
	Num       int
	Processor string
}

// Script is a parsed multilog command line.
type Script struct {
	Timestamp bool
	Actions   []Action
	Dirs      []DirConfig
}

// Parse reads a script the way multilog does: `t` counts only as the first
// action, sizes and counts are clamped, and unknown actions are ignored.
func Parse(args []string) Script {
	var s Script
	size, num, proc := int64(DefaultSize), DefaultNum, ""
	for i, a := range args {
		if a == "" {
			continue
		}
		switch a[0] {
		case 't':
			if i == 0 {
				s.Timestamp = true
			}
		case '-':
			s.Actions = append(s.Actions, Action{Kind: actDeselect, Arg: a[1:]})
		case '+':
			s.Actions = append(s.Actions, Action{Kind: actSelect, Arg: a[1:]})
		case 'e':
			s.Actions = append(s.Actions, Action{Kind: actStderr})
		case '=':
			s.Actions = append(s.Actions, Action{Kind: actStatus, Arg: a[1:]})
		case 's':
			size = clamp(leadingNumber(a[1:]), MinSize, MaxSize)
		case 'n':
			num = int(clamp(leadingNumber(a[1:]), MinNum, 1<<30))
		case '!':
			proc = a[1:]
		case '.', '/':
			s.Actions = append(s.Actions, Action{Kind: actDir, Arg: a, Dir: len(s.Dirs)})
			s.Dirs = append(s.Dirs, DirConfig{Path: a, Size: size, Num: num, Processor: proc})
		}
	}
	return s
}

// leadingNumber reads the decimal digits at the start of s like scan_ulong.
func leadingNumber(s string) int64 {
	n := 0
	for n < len(s) && n < 12 && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	v, _ := strconv.ParseInt(s[:n], 10, 64)
	return v
}

func clamp(v, lo, hi int64) int64 {
	return max(lo, min(v, hi))
}
