package scan

import (
	"slices"
	"strings"
	"time"

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

// dependents maps each service to the services that need it and are to
// stop before it, in the order needs.StopOrder gives: on a cycle, the
// need that would close it is left out, so that every stop ends.
func (s *Scanner) dependents() map[*service][]*service {
	byName := map[string]*service{}
	var names []string
	for _, sv := range s.services {
		byName[sv.name] = sv
		names = append(names, sv.name)
	}
	slices.Sort(names)
	pos := map[string]int{}
	for i, name := range needs.StopOrder(s.dir, names) {
		pos[name] = i
	}
	after := map[*service][]*service{}
	for _, name := range names {
		for _, needed := range needs.Of(s.dir, name) {
			if sv := byName[needed]; sv != nil && pos[needed] > pos[name] {
				after[sv] = append(after[sv], byName[name])
			}
		}
	}
	return after
}

// dependentsUp tells whether a service that needs sv still has its
// supervisor: sv's stop waits for it.
func (s *Scanner) dependentsUp(sv *service, now time.Time) bool {
	for _, d := range s.stopAfter[sv] {
		if s.services[d.id] == d && s.memberOf(d.main, now).Present() {
			return true
		}
	}
	return false
}
