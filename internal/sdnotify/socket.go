package sdnotify

import "golang.org/x/sys/unix"

// Socket is the receiving end of the protocol for one service: a datagram
// socket in the abstract namespace, with a name the kernel picks. An
// abstract name has no path, so no length limit from the service's path,
// no file to remove, and nothing to resolve: a daemon reaches it after a
// chdir or chroot and from another mount or pid namespace, as long as it
// shares the network namespace. Whoever can reach it can send to it, so
// every datagram carries its sender's credentials for the receiver to
// check.
type Socket struct {
	fd   int
	name string
	buf  [MaxSize]byte
	oob  []byte
}

// maxRights is how many descriptors a datagram may bring along (systemd's
// FDSTORE=1 and BARRIER=1 send some) before the rest are dropped by the
// kernel; every one is closed at once.
const maxRights = 16

// Listen makes a socket, non-blocking and closed on exec.
func Listen() (*Socket, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	s := &Socket{fd: fd, oob: make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4*maxRights))}
	if err := s.bind(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return s, nil
}

func (s *Socket) bind() error {
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		return err
	}
	// An empty name asks the kernel for an unused abstract one.
	if err := unix.Bind(s.fd, &unix.SockaddrUnix{}); err != nil {
		return err
	}
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return err
	}
	u, ok := sa.(*unix.SockaddrUnix)
	if !ok || len(u.Name) < 2 || u.Name[0] != '@' {
		return unix.EAFNOSUPPORT
	}
	s.name = u.Name
	return nil
}

// Name is the socket's address as $NOTIFY_SOCKET gives it: '@' and the
// abstract name.
func (s *Socket) Name() string { return s.name }

// Fd is the socket's descriptor, to poll for reading.
func (s *Socket) Fd() int { return s.fd }

// Close closes the socket; its name is free from then on.
func (s *Socket) Close() {
	if s.fd >= 0 {
		unix.Close(s.fd)
		s.fd = -1
	}
}

// Datagram is one datagram received and its sender.
type Datagram struct {
	Pid, Uid int    // the sender's, as the kernel vouches for them; Pid 0 when unknown
	Size     int    // its full length: over MaxSize, Text holds only the start
	Text     []byte // its bytes, valid until the next Receive
}

// Receive reads the next datagram waiting, without blocking: unix.EAGAIN
// means none is. Descriptors sent along are closed, which is also what
// systemd-notify's barrier waits for.
func (s *Socket) Receive() (Datagram, error) {
	for {
		n, oobn, _, _, err := unix.Recvmsg(s.fd, s.buf[:], s.oob, unix.MSG_TRUNC|unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Datagram{}, err
		}
		d := Datagram{Size: n, Text: s.buf[:min(n, MaxSize)]}
		msgs, _ := unix.ParseSocketControlMessage(s.oob[:oobn])
		for i := range msgs {
			if cred, err := unix.ParseUnixCredentials(&msgs[i]); err == nil {
				d.Pid, d.Uid = int(cred.Pid), int(cred.Uid)
			}
			fds, _ := unix.ParseUnixRights(&msgs[i])
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
		return d, nil
	}
}
