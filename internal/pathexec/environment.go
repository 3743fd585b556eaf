package pathexec

import "strings"

// Environment is an environment changed as daemontools' pathexec_env
// changes it, which programs can see in the order of the variables: a
// change "NAME=VALUE" (or a bare "NAME", which only removes) takes out the
// first variable named up to the change's first "=", moving the last
// variable into its place, and then appends the change if it holds an "=".
// So a file "A=B" in an envdir replaces A with "B=..." (or "B" when empty).
// Each change costs time in proportion to the variables of its name only.
type Environment struct {
	vars []string
	// at lists, for each name, the positions in vars of the variables so
	// named (more than one only when the inherited environment repeats it).
	at map[string][]int
}

// NewEnvironment starts from env, which it takes over.
func NewEnvironment(env []string) *Environment {
	e := &Environment{vars: env, at: make(map[string][]int, len(env))}
	for i, kv := range env {
		if name, _, ok := strings.Cut(kv, "="); ok {
			e.at[name] = append(e.at[name], i)
		}
	}
	return e
}

// Set sets name to value.
func (e *Environment) Set(name, value string) { e.change(name + "=" + value) }

// Unset removes name.
func (e *Environment) Unset(name string) { e.change(name) }

// List returns the variables, in the order the program gets them.
func (e *Environment) List() []string { return e.vars }

func (e *Environment) change(c string) {
	name, _, set := strings.Cut(c, "=")
	if at := e.at[name]; len(at) > 0 {
		e.remove(name, at)
	}
	if set {
		e.at[name] = append(e.at[name], len(e.vars))
		e.vars = append(e.vars, c)
	}
}

// remove takes out the first variable called name, at one of positions at.
func (e *Environment) remove(name string, at []int) {
	first := 0
	for k, i := range at {
		if i < at[first] {
			first = k
		}
	}
	gone := at[first]
	at[first] = at[len(at)-1]
	e.at[name] = at[:len(at)-1]
	last := len(e.vars) - 1
	if gone != last {
		moved := e.vars[last]
		e.vars[gone] = moved
		movedName, _, _ := strings.Cut(moved, "=")
		positions := e.at[movedName]
		for k, i := range positions {
			if i == last {
				positions[k] = gone
				break
			}
		}
	}
	e.vars = e.vars[:last]
}
