// Package faults is the reliability suite: its tests run the real programs
// and inject the faults supervision exists for (kill -9 at random moments, a
// full or read-only disk, crash loops, garbage on the control FIFO, broken
// service directories, a thousand services under svscan) and check that
// services keep running and no status or log line is lost.
//
// `go test ./faults` runs the short versions (CI). FAULTS_LONG=1 runs the
// long versions (bench/faults). FAULTS_BIN=/usr/bin runs the suite against
// another implementation, such as Debian's daemontools 0.76, to check the
// tests themselves. The tests need root: they mount filesystems, act as
// another user and read /proc of every process.
package faults
