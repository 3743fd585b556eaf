package needs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// scanDir makes services in a temporary directory, each needing those
// listed (dot names among them, skipped), and returns it open.
func scanDir(t *testing.T, graph map[string][]string) int {
	t.Helper()
	dir := t.TempDir()
	for name, needed := range graph {
		testbin.Must(t, os.MkdirAll(filepath.Join(dir, name, Dir), 0o755))
		for i, n := range needed {
			path := filepath.Join(dir, name, Dir, n)
			if i%2 == 0 {
				testbin.Must(t, os.WriteFile(path, nil, 0o644))
			} else {
				testbin.Must(t, os.Symlink("../../"+n, path)) // dangling or not: the name counts
			}
		}
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	testbin.Must(t, err)
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func TestOf(t *testing.T) {
	fd := scanDir(t, map[string][]string{"app": {"db", ".hidden", "cache"}, "db": nil})
	if got := Of(fd, "app"); !slices.Equal(got, []string{"cache", "db"}) {
		t.Errorf("Of(app) = %q", got)
	}
	if got := Of(fd, "db"); got != nil {
		t.Errorf("Of(db), an empty needs/: %q", got)
	}
	if got := Of(fd, "none"); got != nil {
		t.Errorf("Of(none): %q", got)
	}
}

func TestCycle(t *testing.T) {
	fd := scanDir(t, map[string][]string{
		"a": {"b"}, "b": {"c", "a"}, "c": {"d"}, "d": nil, // a -> b -> a; c off it
		"self": {"self"},
		"app":  {"a"}, // needs a cycle, is on none
	})
	for service, want := range map[string]string{
		"a": "a -> b -> a", "b": "b -> a -> b", "c": "", "d": "", "self": "self -> self", "app": "", "missing": "",
	} {
		if got := Cycle(fd, service); got != want {
			t.Errorf("Cycle(%s) = %q, want %q", service, got, want)
		}
	}
}

func TestStopOrder(t *testing.T) {
	fd := scanDir(t, map[string][]string{
		"web": {"migrate", "db"}, "migrate": {"db"}, "db": nil, "cache": nil, "worker": {"cache", "gone"},
		"x": {"y"}, "y": {"x"},
	})
	got := StopOrder(fd, []string{"cache", "db", "migrate", "web", "worker", "x", "y"})
	pos := map[string]int{}
	for i, s := range got {
		pos[s] = i
	}
	if len(got) != 7 || len(pos) != 7 {
		t.Fatalf("StopOrder = %q", got)
	}
	for _, before := range [][2]string{{"web", "migrate"}, {"migrate", "db"}, {"web", "db"}, {"worker", "cache"}} {
		if pos[before[0]] > pos[before[1]] {
			t.Errorf("StopOrder = %q: %s after %s", got, before[0], before[1])
		}
	}
}
