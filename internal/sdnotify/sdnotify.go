// Package sdnotify tells systemd that a Type=notify service is ready: one
// datagram "READY=1" to the unix socket named by $NOTIFY_SOCKET (a leading
// '@' names an abstract socket).
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
