package envdir

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"daemontools/internal/testbin"
)

func TestValue(t *testing.T) {
	tests := []struct {
		content string
		value   string
		set     bool
	}{
		{"", "", false},
		{"\n", "", true},
		{"hello", "hello", true},
		{"hello  \t\nsecond\n", "hello", true},
		{" lead \t", " lead", true},
		{"a\x00b\n", "a\nb", true},
		{"a\x00 \n", "a\n", true},
		{"\t \t", "", true},
		{"x\r\n", "x\r", true},
	}
	for _, tc := range tests {
		v, set := Value([]byte(tc.content))
		if v != tc.value || set != tc.set {
			t.Errorf("Value(%q) = %q, %v; want %q, %v", tc.content, v, set, tc.value, tc.set)
		}
	}
}

func TestRead(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nonexistent")
	dir := t.TempDir()
	files := map[string]string{"A": "one\ntwo\n", "B": "", ".hidden": "x", "C": strings.Repeat("y", 10000) + "  \nz"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(missing, filepath.Join(dir, "D")); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
	want := []Setting{{"A", "one", false}, {"B", "", true}, {"C", strings.Repeat("y", 10000), false}, {"D", "", true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Read = %v, want %v", got, want)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "sub", "inner"), 0o755))
	testbin.Must(t, os.Mkdir(filepath.Join(dir, "loops"), 0o755))
	testbin.Must(t, os.Symlink("l2", filepath.Join(dir, "loops", "l1")))
	testbin.Must(t, os.Symlink("l1", filepath.Join(dir, "loops", "l2")))
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "file"), nil, 0o644))
	tests := []struct{ dir, want string }{
		{filepath.Join(dir, "missing"), "fatal: unable to switch to directory " + dir + "/missing: file does not exist"},
		{filepath.Join(dir, "file"), "fatal: unable to switch to directory " + dir + "/file: not a directory"},
		{filepath.Join(dir, "sub"), "fatal: unable to read " + dir + "/sub/inner: is a directory"},
		{filepath.Join(dir, "loops"), "fatal: unable to read " + dir + "/loops/l1: symbolic link loop"},
	}
	for _, tc := range tests {
		if _, err := Read(tc.dir); err == nil || err.Error() != tc.want {
			t.Errorf("Read(%s) = %v, want %s", tc.dir, err, tc.want)
		}
	}
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{"", "\n", "a b \t\n", "a\x00b", "\x00\x00\n\x00", " \t \t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		v, set := Value(content)
		if set != (len(content) > 0) {
			t.Fatalf("set=%v for %d bytes", set, len(content))
		}
		if strings.HasSuffix(v, " ") || strings.HasSuffix(v, "\t") {
			t.Fatalf("trailing blank kept: %q", v)
		}
		// The value is the first line, NULs as newlines, so the first line
		// of the content begins with the value's bytes.
		line, _, _ := strings.Cut(string(content), "\n")
		if !strings.HasPrefix(strings.ReplaceAll(line, "\x00", "\n"), v) {
			t.Fatalf("value %q is not a prefix of %q", v, line)
		}
	})
}
