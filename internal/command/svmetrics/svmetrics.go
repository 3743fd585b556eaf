// Package svmetrics is the program svmetrics, which serves the state of
// every service of a scan directory over HTTP (internal/svmetrics):
// svmetrics [-l HOST:PORT] DIR. It runs until killed; it exits 100 on a
// usage error and 111 when it cannot read DIR or bind its address.
//
// It is an executable of its own, not part of the one executable of every
// other program (multicall): it needs package net and net/http, whose
// size and start-up every other program would otherwise carry.
package svmetrics

import (
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/getopt"
	"daemontools/internal/strerr"
	"daemontools/internal/svmetrics"
	"daemontools/internal/tai64"
)

const (
	usage = "svmetrics [-l host:port] dir"
	// defaultAddress is where svmetrics listens without -l: this machine
	// only, on a port outside the range Prometheus' exporters took
	// (9100-9999), 9076 after daemontools 0.76.
	defaultAddress = "127.0.0.1:9076"
)

// Run is the program: args as the command line has them, the name first,
// and its standard streams.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	address := defaultAddress
	opts := getopt.New("svmetrics", "l:", args[1:], stderr)
	for c := opts.Next(); c != 0; c = opts.Next() {
		switch c {
		case 'l':
			address = opts.Arg
		default:
			return strerr.Usage(usage)
		}
	}
	rest := opts.Rest()
	if len(rest) != 1 || !validAddress(address) {
		return strerr.Usage(usage)
	}
	dir := rest[0]
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return strerr.Fatal("unable to open ", dir, ": ", err)
	}
	unix.Close(fd)
	ln, err := net.Listen("tcp", address)
	if err != nil {
		var dns *net.DNSError
		if errors.As(err, &dns) {
			err = strerr.Text("host not found")
		}
		return strerr.Fatal("unable to bind ", address, ": ", err)
	}
	server := &http.Server{
		Handler: svmetrics.Handler(dir, tai64.Now),
		// A client that stalls holds a connection only so long.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(stderr, "svmetrics: warning: ", 0),
	}
	return strerr.Fatal("unable to accept: ", server.Serve(ln))
}

// validAddress tells whether address is HOST:PORT with a port number
// (HOST may be empty: every address of the machine).
func validAddress(address string) bool {
	_, port, err := net.SplitHostPort(address)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	return err == nil
}
