package status

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// serviceDir makes a service directory with its supervise/ and gives its
// path and a descriptor of it.
func serviceDir(t *testing.T) (string, int) {
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "supervise"), 0o755))
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	testbin.Must(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	return dir, fd
}
