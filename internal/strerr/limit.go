package strerr

import (
	"io"
	"strconv"
	"time"
)

// Limiter lets through at most one warning of each kind per Every, so
// that a flood of bad input (a hundred thousand datagrams, say) costs a
// line a second, not a line each. The warnings held back are counted and
// the count is told with the next one let through. Kinds are a few fixed
// strings, so its memory stays bounded.
type Limiter struct {
	Every time.Duration
	kinds map[string]*limited
}

type limited struct {
	last time.Time
	held int
}

// Warn writes "prog: warning: parts" to w, as Warn does, unless a warning
// of kind was let through less than l.Every before now.
func (l *Limiter) Warn(w io.Writer, prog string, now time.Time, kind string, parts ...any) {
	if l.kinds == nil {
		l.kinds = make(map[string]*limited)
	}
	k := l.kinds[kind]
	if k == nil {
		k = &limited{}
		l.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < l.Every {
		k.held++
		return
	}
	if k.held > 0 {
		parts = append(parts, " (", strconv.Itoa(k.held), " more like it not shown)")
	}
	k.last, k.held = now, 0
	Warn(w, prog, parts...)
}
