package svscan

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// unmapCode takes this executable's read-only mappings (its code and
// constant data) out of the process's page tables; the pages stay in the
// page cache, shared with every other process of the executable, and a
// page touched again comes back by a minor fault. svscan -1 does it once
// its first scan is done: by then the kernel has mapped nearly the whole
// file (on each fault, the cached pages around the one touched, 64 KiB;
// MADV_RANDOM does not stop that on Linux 6.18), while an idle svscan
// runs a small part of it. At 50 services that is about 1.2 MiB less
// mapped (doc/benchmarks.md). Nothing here fails the start: a mapping
// that cannot be dropped stays as it was.
func unmapCode() {
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for _, m := range readOnlyMappings(string(maps), self) {
		unix.Syscall(unix.SYS_MADVISE, m.start, m.end-m.start, unix.MADV_DONTNEED)
	}
}

// mapping is a range of addresses, from start up to end.
type mapping struct{ start, end uintptr }

// readOnlyMappings returns the mappings of the file at path that nothing
// may write, from maps as /proc/PID/maps has them: "start-end perms
// offset dev inode path". A writable one (the data segment) holds the
// program's variables, which dropping would lose.
func readOnlyMappings(maps, path string) []mapping {
	var found []mapping
	for _, line := range strings.Split(maps, "\n") {
		fields := strings.SplitN(line, " ", 6)
		if len(fields) < 6 || strings.TrimLeft(fields[5], " ") != path || len(fields[1]) < 2 || fields[1][1] != '-' {
			continue
		}
		from, to, _ := strings.Cut(fields[0], "-")
		start, err := strconv.ParseUint(from, 16, 64)
		if err != nil {
			continue
		}
		end, err := strconv.ParseUint(to, 16, 64)
		if err != nil || end <= start {
			continue
		}
		found = append(found, mapping{uintptr(start), uintptr(end)})
	}
	return found
}
