package account

import "testing"

func TestLookup(t *testing.T) {
	ids, err := Lookup("root")
	if err != nil || ids != (IDs{0, 0}) {
		t.Errorf("root: %v, %v", ids, err)
	}
	if ids, err := Lookup("nobody"); err != nil || ids.UID != 65534 {
		t.Errorf("nobody: %v, %v", ids, err)
	}
	for _, name := range []string{"no-such-account", "", "-x"} {
		if _, err := Lookup(name); err == nil || err.Error() != "fatal: unknown account "+name {
			t.Errorf("%q: %v", name, err)
		}
	}
}
