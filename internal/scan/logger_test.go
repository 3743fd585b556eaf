package scan

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestLoggerArgs(t *testing.T) {
	root := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"none", "empty", "own", "default"} {
		if err := os.Mkdir(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("empty/log-script", "")
	write("own/log-script", "T\n\n-*debug *\nj\n")
	dir, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	check := func(name string, want []string) {
		t.Helper()
		got, ok, err := loggerArgs(dir, name)
		if err != nil || ok != (want != nil) || !slices.Equal(got, want) {
			t.Errorf("%s: %q %v %v, want %q", name, got, ok, err, want)
		}
	}
	check("none", nil)
	check("default", nil)
	check("empty", []string{"multilog", "T", "1", "pempty"})
	check("own", []string{"multilog", "T", "-*debug *", "j", "pown"})
	write(".svscan/log-script", "t\n1\n")
	check("default", []string{"multilog", "t", "1", "pdefault"})
	check("own", []string{"multilog", "T", "-*debug *", "j", "pown"})
	if err := os.Chmod(filepath.Join(root, "own/log-script"), 0); err == nil && os.Geteuid() != 0 {
		if _, _, err := loggerArgs(dir, "own"); err == nil {
			t.Error("an unreadable log-script read")
		}
	}
}
