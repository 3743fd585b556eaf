package report

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// svstat -j's object is written by hand; it is what encoding/json writes,
// byte for byte, for every field empty, null or set, and for strings that
// need escaping.
func TestJSONAsEncodingJSON(t *testing.T) {
	u64, u32, u16, n, yes, no := uint64(1<<63+5), uint32(7), uint16(9), -3, true, false
	texts := []string{"", "plain", `quote " backslash \ slash /`, "\b\f\n\r\t\x00\x01\x1f\x7f",
		"<a href='x'>&amp;</a>", "line\u2028para\u2029", "caf\xc3\xa9 \xff\xfe bad \xe2\x82", "日本語 🙂"}
	cases := []jsonStatus{{}}
	for _, s := range texts {
		cases = append(cases, jsonStatus{
			Service: s, Supervised: true, Up: true, Pid: 1 << 22, Seconds: &u64, NormallyUp: true,
			Paused: true, Want: s, State: &s, Ready: &yes, ReadySeconds: &u64, Restarts: &u32,
			ExitCode: &n, ExitSignal: &n, ExitWatchdog: &no, StatusText: &s, NextStartSeconds: &u64,
			PidFromPidfile: &yes, PidFromMainpid: &no, StartError: &s,
			Health: &s, HealthFailures: &u16, HealthProbe: &s, ExitUnhealthy: &yes, ExitProbe: &s, WaitingFor: []string{s, "db"}, Error: s,
		})
	}
	for _, j := range cases {
		want, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		if got := j.encode(); string(got) != string(want) {
			t.Errorf("encode:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

// svstat.8 names every key of -j's object, in the order printed.
func TestManPageKeys(t *testing.T) {
	page, err := os.ReadFile("../../man/svstat.8")
	if err != nil {
		t.Fatal(err)
	}
	_, para, _ := strings.Cut(string(page), "One JSON object per line instead, with the keys ")
	para, _, _ = strings.Cut(para, " (null for")
	keys := strings.Split(strings.Join(strings.Fields(para), " "), ", ")
	var want []string
	typ := reflect.TypeFor[jsonStatus]()
	for i := range typ.NumField() {
		if name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); name != "error" {
			want = append(want, name)
		}
	}
	if !slices.Equal(keys, want) {
		t.Errorf("svstat.8 names the keys\n%q\nsvstat -j prints\n%q", keys, want)
	}
}
