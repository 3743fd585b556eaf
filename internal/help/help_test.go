package help

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) { testbin.Main(m) }

// programs lists cmd/*: every program there needs a help and a man page.
func programs(t *testing.T) (root string, names []string) {
	t.Helper()
	root, err := testbin.Root()
	testbin.Must(t, err)
	entries, err := os.ReadDir(filepath.Join(root, "cmd"))
	testbin.Must(t, err)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) < 17 {
		t.Fatalf("only %d programs in cmd/: %v", len(names), names)
	}
	return root, names
}

// `PROG --help` prints the program's help on stdout, nothing else, and
// exits 0.
func TestEveryProgramHelps(t *testing.T) {
	_, names := programs(t)
	for _, name := range names {
		text, ok := Text(name)
		if !ok {
			t.Errorf("%s has no help", name)
			continue
		}
		if !strings.HasPrefix(text, "usage: "+name) || strings.Count(text, "\n\n") != 1 || !strings.HasSuffix(text, ".\n") {
			t.Errorf("%s: help is not a usage line and one paragraph:\n%s", name, text)
		}
		cmd := exec.Command(testbin.Path(t, name), "--help")
		cmd.Env = []string{"PATH=/usr/bin:/bin"}
		got := testbin.Run(t, cmd)
		if want := (testbin.Result{Stdout: text}); got != want {
			t.Errorf("%s --help: %+v, want %+v", name, got, want)
		}
	}
	if _, ok := Text("no-such-program"); ok {
		t.Error("a help for no-such-program")
	}
}

// Every program has a page in section 8 that groff renders without a
// warning, whose synopsis starts with the help's usage line; and every
// page is a program's.
func TestManPages(t *testing.T) {
	root, names := programs(t)
	pages, err := filepath.Glob(filepath.Join(root, "man", "*"))
	testbin.Must(t, err)
	if len(pages) != len(names) {
		t.Errorf("%d man pages for %d programs: %v", len(pages), len(names), pages)
	}
	// Spaces collapsed, none inside brackets: "[ -nNxX ]" is "[-nNxX]".
	normal := func(s string) string {
		return strings.NewReplacer("[ ", "[", " ]", "]").Replace(strings.Join(strings.Fields(s), " "))
	}
	for _, name := range names {
		page := filepath.Join(root, "man", name+".8")
		lint := exec.Command("groff", "-man", "-ww", "-z", page)
		if out, err := lint.CombinedOutput(); err != nil || len(out) != 0 {
			t.Errorf("groff -man -ww -z %s: %v\n%s", page, err, out)
			continue
		}
		out, err := exec.Command("groff", "-man", "-Tascii", "-rLL=300n", "-rHY=0", "-P-cbou", page).Output()
		if err != nil {
			t.Errorf("groff %s: %v", page, err)
			continue
		}
		_, synopsis, _ := strings.Cut(string(out), "\nSYNOPSIS\n")
		synopsis, _, _ = strings.Cut(synopsis, "\n\n")
		text, _ := Text(name)
		usage, _, _ := strings.Cut(strings.TrimPrefix(text, "usage: "), "\n")
		if !strings.HasPrefix(normal(synopsis), normal(usage)) {
			t.Errorf("%s: man page's synopsis %q does not start with %q", name, normal(synopsis), normal(usage))
		}
		if !strings.Contains(string(out), "\nEXIT STATUS\n") || !strings.Contains(string(out), "\nDIFFERENCES FROM DAEMONTOOLS\n") {
			t.Errorf("%s: man page lacks EXIT STATUS or DIFFERENCES FROM DAEMONTOOLS", name)
		}
	}
}

// svc does not wait for the change it asks for: its page says what does.
func TestSvcPageNamesSvwait(t *testing.T) {
	root, _ := programs(t)
	page, err := os.ReadFile(filepath.Join(root, "man", "svc.8"))
	testbin.Must(t, err)
	_, seeAlso, _ := strings.Cut(string(page), ".SH SEE ALSO\n")
	if !strings.Contains(seeAlso, ".BR svwait (8)") || strings.Count(string(page), ".BR svwait (8)") < 2 {
		t.Errorf("svc.8 does not point to svwait(8) in its description and SEE ALSO")
	}
}
