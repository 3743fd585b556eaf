// Package sdnotify is systemd's notification protocol, both ends: a
// service sends newline-separated VAR=value datagrams (READY=1,
// STATUS=text...) to the unix socket named by $NOTIFY_SOCKET (a leading
// '@' names an abstract socket). Ready is the sending end, with which
// svscan tells systemd it is ready; Socket, Parse and Descends are the
// receiving end, with which supervise hears its services.
package sdnotify

import "net"

// Ready sends READY=1 to socket.
func Ready(socket string) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte("READY=1"))
	return err
}
