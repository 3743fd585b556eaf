package sdnotify

import (
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// READY=1 reaches a socket named by a path and an abstract one.
func TestReady(t *testing.T) {
	for _, name := range []string{
		filepath.Join(t.TempDir(), "notify"),
		"@sdnotify-test-" + strconv.FormatInt(time.Now().UnixNano(), 10),
	} {
		c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := Ready(name); err != nil {
			t.Fatalf("Ready(%q): %v", name, err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		if err != nil || string(buf[:n]) != "READY=1" {
			t.Errorf("%s got %q, %v", name, buf[:n], err)
		}
	}
	if err := Ready(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Ready to a missing socket succeeded")
	}
}
