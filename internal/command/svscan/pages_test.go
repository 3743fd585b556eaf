package svscan

import (
	"reflect"
	"testing"
)

// Only the executable's read-only mappings are dropped: never its data
// segment (writable, the program's variables), the heap, or another file.
func TestReadOnlyMappings(t *testing.T) {
	maps := "00400000-00538000 r-xp 00000000 fe:00 10010834                           /opt/dt/svscan\n" +
		"00538000-006a6000 r--p 00138000 fe:00 10010834                           /opt/dt/svscan\n" +
		"006a6000-006b5000 rw-p 002a6000 fe:00 10010834                           /opt/dt/svscan\n" +
		"006b5000-006f6000 rw-p 00000000 00:00 0                                  [heap]\n" +
		"7f0000000000-7f0000001000 r--p 00000000 fe:00 42                         /opt/dt/svscan.old\n" +
		"7f0000002000-7f0000003000 r--s 00000000 fe:00 43                         /opt/dt/svscan (deleted)\n" +
		"7ffd5a3e0000-7ffd5a3e2000 r-xp 00000000 00:00 0                          [vdso]\n" +
		"zz-00400000 r-xp 00000000 fe:00 10010834                                 /opt/dt/svscan\n"
	want := []mapping{{0x400000, 0x538000}, {0x538000, 0x6a6000}}
	if got := readOnlyMappings(maps, "/opt/dt/svscan"); !reflect.DeepEqual(got, want) {
		t.Errorf("readOnlyMappings = %#x, want %#x", got, want)
	}
	if got := readOnlyMappings(maps, "/opt/dt/svscan (deleted)"); !reflect.DeepEqual(got, []mapping{{0x7f0000002000, 0x7f0000003000}}) {
		t.Errorf("readOnlyMappings of a replaced executable = %#x", got)
	}
	if got := readOnlyMappings("", "/opt/dt/svscan"); got != nil {
		t.Errorf("readOnlyMappings of nothing = %#x", got)
	}
}
