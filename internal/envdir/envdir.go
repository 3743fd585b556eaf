// Package envdir reads an envdir directory: each file whose name does not
// start with a dot sets the variable of that name to the file's first line,
// trailing spaces and tabs removed and NULs turned into newlines; an empty
// file removes the variable.
package envdir

import (
	"bytes"
	"os"

	"golang.org/x/sys/unix"

	"daemontools/internal/pathexec"
	"daemontools/internal/strerr"
)

// Setting is one variable to set, or to remove when Unset.
type Setting struct {
	Name, Value string
	Unset       bool
}

// Read returns the settings in dir, in directory order as daemontools
// applies them, or daemontools' message for the first thing that cannot be
// read.
func Read(dir string) ([]Setting, error) {
	// What daemontools' chdir would say: the path must lead to a directory
	// we may search.
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		unix.Close(fd)
		err = unix.Access(dir, unix.X_OK)
	}
	if err != nil {
		return nil, strerr.Fatal("unable to switch to directory ", dir, ": ", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil, strerr.Fatal("unable to read directory ", dir, ": ", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, strerr.Fatal("unable to read directory ", dir, ": ", err)
	}
	var settings []Setting
	for _, name := range names {
		if name[0] == '.' {
			continue
		}
		content, err := readFile(dir + "/" + name)
		if err != nil {
			return nil, strerr.Fatal("unable to read ", dir, "/", name, ": ", err)
		}
		value, set := Value(content)
		settings = append(settings, Setting{Name: name, Value: value, Unset: !set})
	}
	return settings, nil
}

// maxLine bounds what is kept of a file: only the first line is used.
const maxLine = 1 << 20

// readFile returns the start of the file, read to its end as daemontools
// reads it: opened without blocking, so a FIFO without a writer reads as
// empty, and one whose writer has no more to say fails with "temporary
// failure". A file that vanished (or a dangling symlink) reads as empty.
// Reading stops after maxLine bytes, where daemontools would go on.
func readFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == unix.ENOENT {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	content := make([]byte, 0, 256)
	for len(content) < maxLine {
		if len(content) == cap(content) {
			content = append(content, 0)[:len(content)]
		}
		n, err := unix.Read(fd, content[len(content):cap(content)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
		content = content[:len(content)+n]
	}
	return content, nil
}

// Value turns file content into a variable's value; set is false for an
// empty file, which removes the variable.
func Value(content []byte) (value string, set bool) {
	if len(content) == 0 {
		return "", false
	}
	if i := bytes.IndexByte(content, '\n'); i >= 0 {
		content = content[:i]
	}
	content = bytes.TrimRight(content, " \t")
	return string(bytes.ReplaceAll(content, []byte{0}, []byte{'\n'})), true
}

// Apply returns env changed by settings, in order, as daemontools' envdir
// changes its environment (see pathexec.Environment), taking over env.
func Apply(env []string, settings []Setting) []string {
	e := pathexec.NewEnvironment(env)
	for _, s := range settings {
		if s.Unset {
			e.Unset(s.Name)
		} else {
			e.Set(s.Name, s.Value)
		}
	}
	return e.List()
}
