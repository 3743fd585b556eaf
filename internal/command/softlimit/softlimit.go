// Package softlimit is the program softlimit, which runs a program with soft
// resource limits set.
package softlimit

import (
	"io"
	"os"

	"daemontools/internal/getopt"
	"daemontools/internal/pathexec"
	"daemontools/internal/rlimit"
	"daemontools/internal/strerr"
)

var usage = strerr.Usage("softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child")

// Run is the program: args as the command line has them, the name
// first, and its standard streams.
func Run(args []string, _ io.Reader, _, stderr io.Writer) error {
	opts := getopt.New("softlimit", "a:c:d:f:l:m:o:p:r:s:t:", args[1:], stderr)
	for c := opts.Next(); c != 0; c = opts.Next() {
		resources, ok := rlimit.Resources(c)
		if !ok {
			return usage
		}
		for _, r := range resources {
			if err := rlimit.SetSoft(r, opts.Arg); err == rlimit.ErrBadValue {
				return usage
			} else if err != nil {
				return err
			}
		}
	}
	child := opts.Rest()
	if len(child) == 0 {
		return usage
	}
	return pathexec.Run(child, os.Environ())
}
