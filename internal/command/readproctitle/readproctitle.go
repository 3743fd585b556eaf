// Package readproctitle is the program readproctitle, which shows the latest
// bytes of its input in its own command line, so that ps displays svscan's
// recent errors.
package readproctitle

import (
	"io"

	"daemontools/internal/proctitle"
	"daemontools/internal/strerr"
)

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, stdin io.Reader, _, _ io.Writer) error {
	if len(args) < 2 || len(args[len(args)-1]) < 5 {
		return strerr.Usage("readproctitle io errors: .....")
	}
	title, err := proctitle.LastArg()
	if err != nil {
		return strerr.Fatal("unable to find my command line: ", err.Error())
	}
	for i := range title {
		title[i] = '.'
	}
	buf := make([]byte, 256)
	for {
		n, err := stdin.Read(buf)
		proctitle.Scroll(title, buf[:n])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return strerr.Fatal("unable to read input: ", err)
		}
	}
}
