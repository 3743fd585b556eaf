// Package sdnotify is systemd's notification protocol, both ends: a
// service sends newline-separated VAR=value datagrams (READY=1,
// STATUS=text...) to the unix socket named by $NOTIFY_SOCKET (a leading
// '@' names an abstract socket). Ready is the sending end, with which
// svscan tells systemd it is ready; Socket and Parse are the
// receiving end, with which supervise hears its services.
//
// Ready speaks through the system calls alone: package net would make
// every program of the one executable start slower.
package sdnotify

import "golang.org/x/sys/unix"

// Ready sends READY=1 to socket.
func Ready(socket string) error { return Send(socket, "READY=1") }

// Send sends one datagram holding message to socket.
func Send(socket, message string) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// unix.SockaddrUnix turns a leading '@' into the abstract namespace's NUL.
	return unix.Sendto(fd, []byte(message), 0, &unix.SockaddrUnix{Name: socket})
}
