package scan

import (
	"bytes"
	"errors"

	"golang.org/x/sys/unix"
)

const (
	// LogScriptFile, in a service directory without log/, asks svscan
	// for a logger of its own making: multilog, named after the service,
	// with the actions the file holds, one a line (none: T 1, each line
	// on svscan's output with its time and the service's name).
	LogScriptFile = "log-script"
	// DefaultLogScriptFile, in the scanned directory, is the same for
	// every service with neither log/ nor a log-script of its own.
	DefaultLogScriptFile = ".svscan/" + LogScriptFile
	// maxLogScript is the most of a log-script that is read.
	maxLogScript = 64 << 10
)

// loggerArgs is the command line of the logger svscan makes for the
// service name, which has no log/: multilog with the actions of its
// log-script, or else of the scanned directory's (open as dir), then
// pNAME (last: t and T count only first). ok is false when there is
// neither.
func loggerArgs(dir int, name string) (argv []string, ok bool, err error) {
	script, err := readScript(dir, name+"/"+LogScriptFile)
	if errors.Is(err, unix.ENOENT) {
		script, err = readScript(dir, DefaultLogScriptFile)
	}
	if errors.Is(err, unix.ENOENT) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	argv = []string{"multilog"}
	for _, line := range bytes.Split(script, []byte{'\n'}) {
		if len(line) > 0 {
			argv = append(argv, string(line))
		}
	}
	if len(argv) == 1 {
		argv = append(argv, "T", "1")
	}
	return append(argv, "p"+name), true, nil
}

// readScript reads the file at path under dir, up to maxLogScript bytes.
func readScript(dir int, path string) ([]byte, error) {
	fd, err := unix.Openat(dir, path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	buf := make([]byte, maxLogScript)
	n := 0
	for n < len(buf) {
		k, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if k == 0 {
			break
		}
		n += k
	}
	return buf[:n], nil
}
