// Package needs reads what services need (doc/extensions.md,
// "Dependencies"): the entries of a service directory's needs/, each the
// name of a sibling service in the same scan directory. An entry may be an
// empty file or a symlink to anything; only its name counts.
package needs

import (
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"daemontools/internal/rawsys"
)

// Dir is the directory of a service's needs, relative to the service
// directory.
const Dir = "needs"

// Of is the sorted names in needs/ of the service directory service,
// relative to the directory open as at; nil when it has none or cannot be
// read. Dot names are skipped, as svscan skips them.
func Of(at int, service string) []string {
	fd, err := rawsys.Openat(at, service+"/"+Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer rawsys.Close(fd)
	var names []string
	var buf [2048]byte
	rawsys.Entries(fd, buf[:], func(name []byte) {
		if name[0] != '.' {
			names = append(names, string(name))
		}
	})
	slices.Sort(names)
	return names
}

// Cycle is a cycle of needs through service, among the services of the
// scan directory open as scandir, as svscan words it ("a -> b -> a"),
// starting and ending at service; "" when service is on none. Of several,
// the first found in name order.
func Cycle(scandir int, service string) string {
	seen := map[string]bool{}
	var path []string
	var walk func(name string) bool
	walk = func(name string) bool {
		path = append(path, name)
		for _, next := range Of(scandir, name) {
			if next == service {
				path = append(path, next)
				return true
			}
			if !seen[next] {
				seen[next] = true
				if walk(next) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		return false
	}
	if !walk(service) {
		return ""
	}
	return strings.Join(path, " -> ")
}

// StopOrder orders services (names in the scan directory open as scandir)
// for a stop: each service before those it needs, so that dependents stop
// first. Services on a cycle keep the order they are in among themselves;
// needs naming services not in services are ignored.
func StopOrder(scandir int, services []string) []string {
	known := map[string]bool{}
	for _, s := range services {
		known[s] = true
	}
	needed := map[string][]string{}
	for _, s := range services {
		for _, n := range Of(scandir, s) {
			if known[n] && n != s {
				needed[s] = append(needed[s], n)
			}
		}
	}
	// Depth-first from each service: a service comes after everything
	// it needs, the reverse of which is the stop order.
	state := map[string]int{} // 1 visiting, 2 done
	var start []string
	var visit func(s string)
	visit = func(s string) {
		if state[s] != 0 {
			return // done, or on a cycle: its place is already being decided
		}
		state[s] = 1
		for _, n := range needed[s] {
			visit(n)
		}
		state[s] = 2
		start = append(start, s)
	}
	for _, s := range services {
		visit(s)
	}
	slices.Reverse(start)
	return start
}
