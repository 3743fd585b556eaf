package report

import (
	"encoding/json"
	"testing"
)

// svstat -j's object is written by hand; it is what encoding/json writes,
// byte for byte, for every field empty, null or set, and for strings that
// need escaping.
func TestJSONAsEncodingJSON(t *testing.T) {
	u64, u32, n, yes, no := uint64(1<<63+5), uint32(7), -3, true, false
	texts := []string{"", "plain", `quote " backslash \ slash /`, "\b\f\n\r\t\x00\x01\x1f\x7f",
		"<a href='x'>&amp;</a>", "line\u2028para\u2029", "caf\xc3\xa9 \xff\xfe bad \xe2\x82", "日本語 🙂"}
	cases := []jsonStatus{{}}
	for _, s := range texts {
		cases = append(cases, jsonStatus{
			Service: s, Supervised: true, Up: true, Pid: 1 << 22, Seconds: &u64, NormallyUp: true,
			Paused: true, Want: s, State: &s, Ready: &yes, ReadySeconds: &u64, Restarts: &u32,
			ExitCode: &n, ExitSignal: &n, ExitWatchdog: &no, StatusText: &s, NextStartSeconds: &u64,
			PidFromPidfile: &yes, PidFromMainpid: &no, Error: s,
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
