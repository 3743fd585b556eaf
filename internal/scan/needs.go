package scan

import (
	"slices"
	"strings"

	"daemontools/internal/needs"
)

// warnCycles warns once of each cycle in the services' needs/ (whose
// services start as if they had none: internal/supervise), looked for
// when a service has appeared.
func (s *Scanner) warnCycles() {
	var names []string
	for _, sv := range s.services {
		if !sv.leaving {
			names = append(names, sv.name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		cycle := needs.Cycle(s.dir, name)
		if cycle == "" {
			continue
		}
		members := strings.Split(cycle, " -> ")
		members = members[:len(members)-1]
		slices.Sort(members)
		key := strings.Join(members, "/") // no name holds a slash
		if s.cyclesWarned[key] {
			continue
		}
		if s.cyclesWarned == nil {
			s.cyclesWarned = map[string]bool{}
		}
		s.cyclesWarned[key] = true
		s.warn("dependency cycle: ", cycle)
	}
}
