// Package pathexec replaces the running program with another, found the way
// daemontools' pathexec finds it, so that a chain-loader keeps its pid and
// supervise goes on signalling the daemon itself.
package pathexec

import (
	"strings"
	"syscall"

	"daemontools/internal/strerr"
)

// defaultPath is daemontools' search path when $PATH is unset.
const defaultPath = "/bin:/usr/bin"

// Run execs argv[0] with argv and env, found as Search finds it. It
// returns only on failure.
func Run(argv, env []string) error {
	return Search(argv[0], func(path string) error { return syscall.Exec(path, argv, env) })
}

// Search is Find with daemontools' message for its failure: "unable to run
// NAME: REASON".
func Search(name string, try func(path string) error) error {
	return failed(name, Find(name, try))
}

// Find calls try with each path daemontools would exec for name until one
// returns nil, and returns nil or the error that ends the search. A name
// containing "/" is tried as it is; otherwise each element of our own
// $PATH in turn (an empty one meaning "."): like daemontools, not the $PATH
// of the environment the program will get, so that envdir's PATH file
// changes what the program sees, not where it is found. Only access
// denied, permission denied and is-a-directory go on searching; the last
// error other than "file does not exist" is the one returned.
func Find(name string, try func(path string) error) error {
	path, ok := syscall.Getenv("PATH")
	if !ok {
		path = defaultPath
	}
	return FindIn(path, name, try)
}

// FindIn is Find with path in place of $PATH.
func FindIn(path, name string, try func(path string) error) error {
	if strings.Contains(name, "/") {
		return try(name)
	}
	var saved error
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		err := try(dir + "/" + name)
		if err == nil {
			return nil
		}
		if err == syscall.ENOENT {
			continue
		}
		saved = err
		if err != syscall.EACCES && err != syscall.EPERM && err != syscall.EISDIR {
			return err
		}
	}
	if saved == nil {
		saved = syscall.ENOENT
	}
	return saved
}

func failed(name string, err error) error {
	if err == nil {
		return nil
	}
	return strerr.Fatal("unable to run ", name, ": ", err)
}

// Setenv returns env with name set to value, replacing earlier settings.
func Setenv(env []string, name, value string) []string {
	return append(Unsetenv(env, name), name+"="+value)
}

// Unsetenv returns env without name.
func Unsetenv(env []string, name string) []string {
	kept := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			kept = append(kept, kv)
		}
	}
	return kept
}
