// Package proctitle rewrites the process's own command line in place, in the
// argv memory that ps and /proc/PID/cmdline read, without cgo.
//
// The Go runtime builds os.Args as strings that point straight into the argv
// area the kernel set up, so their bytes are the command line itself. LastArg
// checks that against the kernel's own bounds (arg_start and arg_end in
// /proc/self/stat) before handing the memory out for writing.
package proctitle

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"unsafe"

	"daemontools/internal/procstart"
)

// LastArg returns the bytes of the last command-line argument, in place:
// writing to the slice changes what ps shows. The slice never covers the
// terminating NUL, so the arguments keep their boundaries.
func LastArg() ([]byte, error) {
	if len(os.Args) == 0 || len(os.Args[len(os.Args)-1]) == 0 {
		return nil, errors.New("proctitle: no last argument")
	}
	last := os.Args[len(os.Args)-1]
	start, end, err := argBounds()
	if err != nil {
		return nil, err
	}
	p := uintptr(unsafe.Pointer(unsafe.StringData(last)))
	if p < start || p+uintptr(len(last)) >= end {
		return nil, errors.New("proctitle: the last argument is not in the argv area")
	}
	return unsafe.Slice(unsafe.StringData(last), len(last)), nil
}

// argBounds reads arg_start and arg_end, fields 48 and 49 of
// /proc/self/stat.
func argBounds() (start, end uintptr, err error) {
	fields, err := procstart.Fields("self") // fields[0] is field 3
	if err != nil {
		return 0, 0, err
	}
	const argStart, argEnd = 48 - 3, 49 - 3
	if len(fields) <= argEnd {
		return 0, 0, errors.New("proctitle: /proc/self/stat lacks arg_start and arg_end")
	}
	s, err1 := strconv.ParseUint(string(fields[argStart]), 10, 64)
	e, err2 := strconv.ParseUint(string(fields[argEnd]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("proctitle: bad arg_start or arg_end in /proc/self/stat")
	}
	return uintptr(s), uintptr(e), nil
}

// Scroll appends the non-NUL bytes of in to the end of title, shifting what
// is there to the left, and always leaves title's first three bytes alone:
// readproctitle's "..." before the newest text.
func Scroll(title, in []byte) {
	if len(title) <= 3 {
		return
	}
	window := title[3:]
	in = bytes.ReplaceAll(in, []byte{0}, nil)
	if len(in) > len(window) {
		in = in[len(in)-len(window):]
	}
	copy(window, window[len(in):])
	copy(window[len(window)-len(in):], in)
}
