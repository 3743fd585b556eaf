// Package health runs a service's liveness probes: an executable
// ./health, a TCP connect (health-tcp), an HTTP GET (health-http) or a
// connect to a unix socket (health-unix), one at a time, every interval,
// and counts the failures in a row. It never blocks: a probe is a child
// process watched through its pidfd, or a non-blocking socket, and the
// Prober gives its driver (the supervisor, and through it the event loop
// of internal/scan) one descriptor to watch and a deadline, as the
// supervisor does its own.
package health

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Kind is what a probe does.
type Kind int

const (
	None Kind = iota // the service has no probe
	Exec             // runs ./health: exit 0 is healthy
	TCP              // connects to HOST:PORT
	HTTP             // GETs a URL: 2xx or 3xx is healthy
	Unix             // connects to a unix stream socket
)

// The files of a service directory that name a probe, in the order they
// are looked for: the first present is the service's probe.
const (
	ExecFile = "health"
	HTTPFile = "health-http"
	TCPFile  = "health-tcp"
	UnixFile = "health-unix"
)

// Target is what a probe of a network kind connects to, and for HTTP what
// it sends.
type Target struct {
	Kind    Kind
	addr    unix.Sockaddr
	family  int
	request []byte // HTTP's GET
}

// ErrNotIP is a HOST that is neither an IP address nor localhost: a probe
// never asks DNS, which could block the loop that runs it.
var ErrNotIP = errors.New("host is not an IP address or localhost")

// ParseTCP reads health-tcp's HOST:PORT (an IPv6 address in brackets).
func ParseTCP(v string) (Target, error) {
	sa, family, err := hostPort(v, "")
	return Target{Kind: TCP, addr: sa, family: family}, err
}

// ParseHTTP reads health-http's URL: http://HOST[:PORT][/PATH]. HTTPS is
// not spoken (a probe of the service's own port needs no TLS).
func ParseHTTP(v string) (Target, error) {
	rest, ok := strings.CutPrefix(v, "http://")
	if !ok {
		return Target{}, errors.New("not an http:// URL")
	}
	host, path := rest, "/"
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		host, path = rest[:i], rest[i:]
		if path[0] == '?' {
			path = "/" + path
		}
	}
	if strings.ContainsAny(path, " \t\r\n#") {
		return Target{}, errors.New("bad path")
	}
	sa, family, err := hostPort(host, "80")
	if err != nil {
		return Target{}, err
	}
	req := "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: supervise-health\r\nConnection: close\r\n\r\n"
	return Target{Kind: HTTP, addr: sa, family: family, request: []byte(req)}, nil
}

// ParseUnix reads health-unix's path; a relative one is of the service
// directory dir.
func ParseUnix(v, dir string) (Target, error) {
	if v == "" {
		return Target{}, errors.New("no path")
	}
	if !filepath.IsAbs(v) {
		v = filepath.Join(dir, v)
	}
	if len(v) >= 108 {
		return Target{}, errors.New("path too long for a socket")
	}
	return Target{Kind: Unix, addr: &unix.SockaddrUnix{Name: v}, family: unix.AF_UNIX}, nil
}

// hostPort resolves HOST:PORT without DNS; def is the port when there is
// none ("" to require one).
func hostPort(v, def string) (unix.Sockaddr, int, error) {
	host, port := v, def
	if i := strings.LastIndexByte(v, ':'); i >= 0 && !strings.HasSuffix(v, "]") {
		host, port = v[:i], v[i+1:]
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 || port[0] == '+' {
		return nil, 0, errors.New("no port number")
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip, ok := parse4(host); ok {
		return &unix.SockaddrInet4{Port: int(n), Addr: ip}, unix.AF_INET, nil
	}
	if ip, ok := parse6(host); ok {
		return &unix.SockaddrInet6{Port: int(n), Addr: ip}, unix.AF_INET6, nil
	}
	return nil, 0, ErrNotIP
}

// The addresses are parsed here rather than with net/netip, which would
// add 70 KB to the one executable of every program.

// parse4 reads an IPv4 address in dotted decimal, four numbers of one to
// three digits (no leading zero), as net/netip does.
func parse4(s string) (ip [4]byte, ok bool) {
	for i := range 4 {
		if i > 0 {
			if s == "" || s[0] != '.' {
				return ip, false
			}
			s = s[1:]
		}
		n, digits := 0, 0
		for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
			n = n*10 + int(s[digits]-'0')
			digits++
			if n > 255 || digits > 1 && s[0] == '0' {
				return ip, false
			}
		}
		if digits == 0 {
			return ip, false
		}
		ip[i], s = byte(n), s[digits:]
	}
	return ip, s == ""
}

// parse6 reads an IPv6 address in RFC 4291's text forms: eight groups of
// one to four hexadecimal digits, "::" for one or more groups of zeros,
// and the last 32 bits in dotted decimal.
func parse6(s string) (ip [16]byte, ok bool) {
	gap, i := -1, 0 // where "::" stands; bytes filled
	if strings.HasPrefix(s, "::") {
		gap, s = 0, s[2:]
	}
	for s != "" {
		if i == 12 || gap >= 0 && i < 12 {
			if v4, ok := parse4(s); ok {
				copy(ip[i:], v4[:])
				i, s = i+4, ""
				break
			}
		}
		n, digits := 0, 0
		for ; digits < len(s) && digits < 5; digits++ {
			c := s[digits] | 0x20 // lower case for letters
			switch {
			case s[digits] >= '0' && s[digits] <= '9':
				n = n<<4 | int(s[digits]-'0')
			case c >= 'a' && c <= 'f':
				n = n<<4 | int(c-'a'+10)
			default:
				goto end
			}
		}
	end:
		if digits == 0 || digits > 4 || i == 16 {
			return ip, false
		}
		ip[i], ip[i+1], i, s = byte(n>>8), byte(n), i+2, s[digits:]
		switch {
		case s == "":
		case strings.HasPrefix(s, "::") && gap < 0:
			gap, s = i, s[2:]
		case s[0] == ':' && len(s) > 1:
			s = s[1:]
		default:
			return ip, false
		}
	}
	switch {
	case gap < 0:
		return ip, i == 16
	case i == 16:
		return ip, false // "::" must stand for something
	}
	shift := 16 - i
	copy(ip[gap+shift:], ip[gap:i])
	clear(ip[gap : gap+shift])
	return ip, true
}
