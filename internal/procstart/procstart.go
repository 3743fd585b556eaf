// Package procstart tells processes apart over time: a pid is reused once
// its process is gone, but a pid together with the boot it ran in and its
// start time (clock ticks after boot, from /proc) names one process for
// good. A supervisor records it beside the pid it started, so that a later
// supervisor adopts that process, and never another that got its pid.
package procstart

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"sync"
)

// ID is when a process started: the kernel's boot id and its start time
// in clock ticks after that boot. The zero ID is no process.
type ID struct {
	Boot  [16]byte
	Ticks uint64
}

// ErrFormat means a file of /proc is not as the kernel writes it.
var ErrFormat = errors.New("unexpected format in /proc")

// Of returns the ID of the process pid as it is now.
func Of(pid int) (ID, error) {
	boot, err := thisBoot()
	if err != nil {
		return ID{}, err
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ID{}, err
	}
	// The command name, in parentheses, may hold blanks and parentheses:
	// the fields that count come after its last ')'. starttime is field
	// 22; field 3 is the first after the name.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ID{}, ErrFormat
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 20 {
		return ID{}, ErrFormat
	}
	ticks, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return ID{}, ErrFormat
	}
	return ID{Boot: boot, Ticks: ticks}, nil
}

// thisBoot is the boot id, read once: it changes only with a reboot.
var thisBoot = sync.OnceValues(bootID)

// bootID reads the kernel's random id of this boot.
func bootID() ([16]byte, error) {
	var id [16]byte
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return id, err
	}
	hex := bytes.ReplaceAll(bytes.TrimSpace(b), []byte("-"), nil)
	if len(hex) != 32 {
		return id, ErrFormat
	}
	for i := range id {
		v, err := strconv.ParseUint(string(hex[2*i:2*i+2]), 16, 8)
		if err != nil {
			return id, ErrFormat
		}
		id[i] = byte(v)
	}
	return id, nil
}
