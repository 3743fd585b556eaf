// Package envdir reads an envdir directory: each file whose name does not
// start with a dot sets the variable of that name to the file's first line,
// trailing spaces and tabs removed and NULs turned into newlines; an empty
// file removes the variable.
package envdir

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

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

// maxLine bounds what is read of a file: only the first line is used.
const maxLine = 1 << 20

// readFile returns the start of the file; a file that vanished (or a
// dangling symlink) reads as empty.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, syscall.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, maxLine)).ReadBytes('\n')
	if err == io.EOF {
		err = nil
	}
	return line, err
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
