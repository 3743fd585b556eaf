package command

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// processWide are the calls that read or change what the whole process
// shares: its environment, working directory, signal handlers and
// inherited descriptors, by import path and name.
var processWide = map[string][]string{
	"os":                           {"Getenv", "LookupEnv", "Environ", "Setenv", "Unsetenv", "Clearenv", "ExpandEnv", "Chdir"},
	"syscall":                      {"Getenv", "Setenv", "Unsetenv", "Clearenv", "Environ", "Chdir", "Fchdir"},
	"golang.org/x/sys/unix":        {"Getenv", "Setenv", "Unsetenv", "Clearenv", "Environ", "Chdir", "Fchdir", "CloseRange"},
	"os/signal":                    {"Notify", "Ignore", "Reset"},
	"daemontools/internal/inherit": {"OnlyStdio"},
}

// mayTouch are the packages outside internal/command that may: each is
// a tool that a program calls for that very effect, or test support.
var mayTouch = map[string]string{
	"sigevent": "catches the signals a program asks for",
	"inherit":  "is the descriptor hygiene a program asks for",
	"pathexec": "finds programs in our own $PATH, as daemontools' pathexec",
	"svtest":   "test support",
	"testbin":  "test support",
}

// Side effects on the process belong to the programs (internal/command):
// a library that set them on its own would surprise every other caller
// (svscan -1 runs many supervisors in one process).
func TestSideEffectsOnlyInCommands(t *testing.T) {
	root := ".."
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "command" || mayTouch[rel] != "" || d.Name() == "testdata" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		for _, call := range processWideCalls(t, path) {
			t.Errorf("%s: a program's side effect (internal/command passes it in as an option)", call)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// processWideCalls lists the uses of processWide names in the file.
func processWideCalls(t *testing.T, path string) []string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	imported := map[string]string{} // local name -> import path
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imported[name] = p
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		pkg, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		for _, name := range processWide[imported[pkg.Name]] {
			if sel.Sel.Name == name {
				found = append(found, fset.Position(sel.Pos()).String()+": "+pkg.Name+"."+name)
			}
		}
		return true
	})
	return found
}
