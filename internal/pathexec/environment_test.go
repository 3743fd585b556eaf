package pathexec

import (
	"math/rand"
	"slices"
	"strings"
	"testing"
)

func TestEnvironmentOrderLikePathexec(t *testing.T) {
	e := NewEnvironment([]string{"PATH=/bin", "A=orig", "KEPT=1", "B=2", "=y", "C"})
	e.Set("A=B", "x") // takes A out, C moves into its place
	e.Unset("KEPT")
	e.Unset("C=D") // sets C to "D"; the bare "C" is no variable and stays
	e.Set("", "v") // named "": replaces "=y"
	want := []string{"PATH=/bin", "C", "A=B=x", "B=2", "C=D", "=v"}
	if got := e.List(); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// modelChange is daemontools' pathexec written plainly, one scan of the
// whole environment per change.
func modelChange(env []string, c string) []string {
	split := strings.IndexByte(c, '=')
	if split < 0 {
		split = len(c)
	}
	for i, kv := range env {
		if len(kv) > split && kv[split] == '=' && kv[:split] == c[:split] {
			env[i] = env[len(env)-1]
			env = env[:len(env)-1]
			break
		}
	}
	if split < len(c) {
		env = append(env, c)
	}
	return env
}

// Random changes, inherited duplicates and names with "=" among them, give
// the plain model's environment.
func TestEnvironmentMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	names := []string{"A", "B", "C", "A=B", "", "=", "AB", "B=A"}
	pick := func() string { return names[rng.Intn(len(names))] }
	for round := 0; round < 2000; round++ {
		var start []string
		for i := rng.Intn(8); i > 0; i-- {
			if rng.Intn(5) == 0 {
				start = append(start, pick()) // no "=": not a variable
			} else {
				start = append(start, pick()+"="+pick())
			}
		}
		model := slices.Clone(start)
		e := NewEnvironment(slices.Clone(start))
		var changes []string
		for i := rng.Intn(12); i > 0; i-- {
			name := pick()
			if rng.Intn(3) == 0 {
				e.Unset(name)
				model = modelChange(model, name)
				changes = append(changes, "unset "+name)
			} else {
				value := pick()
				e.Set(name, value)
				model = modelChange(model, name+"="+value)
				changes = append(changes, "set "+name+" "+value)
			}
		}
		if got := e.List(); !slices.Equal(got, model) {
			t.Fatalf("from %q after %q:\ngot  %q\nwant %q", start, changes, got, model)
		}
	}
}
