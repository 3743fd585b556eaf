package multilog

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

var fixedTime = time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.FixedZone("east", 3600))

const fixedISO = "2026-01-02T14:04:05.123456Z"

// streamed runs script over input fed in pieces of piece bytes (all at
// once when 0), then ends the input, and returns what standard output got.
func streamed(t *testing.T, script []string, input string, piece int) string {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	m, err := New(Parse(script), int(out.Fd()), io.Discard, Pause)
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return fixedTime }
	in := []byte(input)
	for len(in) > 0 {
		n := len(in)
		if piece > 0 {
			n = min(n, piece)
		}
		m.feed(in[:n], false)
		m.flush()
		in = in[n:]
	}
	m.endInput()
	m.Close()
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStreamActions(t *testing.T) {
	long := strings.Repeat("x", 4096)
	for _, tc := range []struct {
		script []string
		in     string
		want   string
	}{
		{[]string{"1"}, "a\nb\n", "a\nb\n"},
		{[]string{"1"}, "partial", "partial\n"},
		{[]string{"1"}, "\n\n", "\n\n"},
		{[]string{"1"}, "bin \x00\xff\x1b[0m\r\n", "bin \x00\xff\x1b[0m\r\n"},
		{[]string{"T", "1"}, "a\n", fixedISO + " a\n"},
		{[]string{"T", "papp", "1"}, "a\n", fixedISO + " app: a\n"},
		{[]string{"papp", "1"}, "a\n", "app: a\n"},
		{[]string{"papp", "T", "1"}, "a\n", "app: a\n"}, // T counts only first, as t
		{[]string{"t", "1"}, "a\n", "@400000006957d05f075bcd15 a\n"},
		{[]string{"1", "1"}, "a\nb\n", "a\na\nb\nb\n"}, // each line once per action
		{[]string{"-*", "+b*", "1", "+*", "1"}, "a\nb\n", "a\nb\nb\n"},
		{[]string{"1"}, long + "\n" + long + "y", long + "\n" + long + "y\n"},
		{[]string{"j"}, "a\n", `{"time":"` + fixedISO + `","line":"a"}` + "\n"},
		{[]string{"T", "pweb", "j"}, "a\n", `{"time":"` + fixedISO + `","service":"web","line":"a"}` + "\n"},
		{[]string{"t", "pq\"\\", "j"}, "a\n", `{"time":"` + fixedISO + `","service":"q\"\\","line":"a"}` + "\n"},
		{[]string{"j"}, "q\" b\\ \t\r\b\f\x00\x01\x1f\x7f /<>&\n",
			`{"time":"` + fixedISO + `","line":"q\" b\\ \t\r\b\f\u0000\u0001\u001f` + "\x7f" + ` /<>&"}` + "\n"},
		{[]string{"j"}, "é€😀 \u2028\u2029\n", `{"time":"` + fixedISO + `","line":"é€😀 \u2028\u2029"}` + "\n"},
		{[]string{"j"}, "\xff \xe2\x82 \xe2\x82\xac \xc0\x80 \xed\xa0\x80 \xf0\x9f\x98\n",
			`{"time":"` + fixedISO + `","line":"\ufffd \ufffd\ufffd € \ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd\ufffd"}` + "\n"},
		{[]string{"j"}, "cut \xe2\x82", `{"time":"` + fixedISO + `","line":"cut \ufffd\ufffd"}` + "\n"},
		{[]string{"j"}, long + "\n", `{"time":"` + fixedISO + `","line":"` + long + `"}` + "\n"},
	} {
		for _, piece := range []int{0, 1, 2, 3, 1000, 4095} {
			if got := streamed(t, tc.script, tc.in, piece); got != tc.want {
				t.Errorf("%q on %q in pieces of %d:\n got %q\nwant %q", tc.script, tc.in, piece, got, tc.want)
			}
		}
	}
}

// FuzzJSONLines checks that j writes one valid JSON object per line,
// whose line member is the input line with each invalid byte replaced,
// however the input is cut into reads.
func FuzzJSONLines(f *testing.F) {
	f.Add([]byte("a\n\xe2\x82\xac\xff\"\\\n\x00"), uint8(1))
	f.Add([]byte("\xf0\x9f\x98\x80\xf0\x9f\n\xed\xa0\x80"), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, piece uint8) {
		got := streamed(t, []string{"pname", "j"}, string(in), int(piece))
		lines := strings.Split(string(in), "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		objects := strings.SplitAfter(got, "\n")
		if objects[len(objects)-1] != "" || len(objects)-1 != len(lines) {
			t.Fatalf("%d lines gave %q", len(lines), got)
		}
		for i, line := range lines {
			if !utf8.ValidString(objects[i]) {
				t.Fatalf("not UTF-8: %q", objects[i])
			}
			var o struct{ Time, Service, Line string }
			if err := json.Unmarshal([]byte(objects[i]), &o); err != nil {
				t.Fatalf("%q: %v", objects[i], err)
			}
			if want := strings.ToValidUTF8(line, "\ufffd"); o.Line != want && o.Line != perByte(line) {
				t.Fatalf("line %q came out as %q", line, o.Line)
			}
			if o.Time != fixedISO || o.Service != "name" {
				t.Fatalf("%q", objects[i])
			}
		}
	})
}

// perByte is s with each byte that is not part of valid UTF-8 replaced.
func perByte(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // range yields U+FFFD for each invalid byte
	}
	return b.String()
}

// TestStreamWritesWholeLines checks that the stream's writes end at line
// ends and hold at most PIPE_BUF bytes, save one long line alone: a
// SOCK_SEQPACKET socket keeps each write apart.
func TestStreamWritesWholeLines(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	unix.SetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
	m, err := New(Parse([]string{"papp", "1"}), fds[1], io.Discard, Pause)
	if err != nil {
		t.Fatal(err)
	}
	var in bytes.Buffer
	for _, n := range []int{10, 3000, 1000, 4090, 4091, 5000, 1, 9000, 20} {
		in.WriteString(strings.Repeat("x", n) + "\n")
	}
	sizes := make(chan []int)
	go func() {
		var got []int
		buf := make([]byte, 1<<16)
		for {
			n, err := unix.Read(fds[0], buf)
			if n <= 0 || err != nil {
				sizes <- got
				return
			}
			got = append(got, n)
			if buf[n-1] != '\n' {
				t.Errorf("a write of %d bytes ends inside a line", n)
			}
		}
	}()
	m.feed(in.Bytes(), false)
	m.Close()
	unix.Close(fds[1])
	// With "app: " and the newline: 16, 3006, 1006, 4096, 4097, 5006, 7,
	// 9006, 26.
	want := []int{16 + 3006 + 1006, 4096, 4097, 5006, 7, 9006, 26}
	if got := <-sizes; !slices.Equal(got, want) {
		t.Errorf("writes of %v, want %v", got, want)
	}
}

func TestServiceName(t *testing.T) {
	for dir, want := range map[string]string{
		"/service/app/log":  "app",
		"/service/app/log/": "app",
		"/service/app":      "app",
		"/run/x/web/log":    "web",
		"/log":              "",
		"/":                 "",
	} {
		if got := ServiceName(dir); got != want {
			t.Errorf("ServiceName(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestAppendRFC3339(t *testing.T) {
	for tm, want := range map[time.Time]string{
		fixedTime:       fixedISO,
		time.Unix(0, 0): "1970-01-01T00:00:00.000000Z",
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC): "9999-12-31T23:59:59.999999Z",
	} {
		if got := string(appendRFC3339(nil, tm)); got != want {
			t.Errorf("%v: %q, want %q", tm, got, want)
		}
	}
}

// BenchmarkStream is the work per byte of multilog T pNAME and a stream
// action, without the input's system calls, into /dev/null.
func BenchmarkStream(b *testing.B) {
	for _, action := range []string{"1", "j"} {
		b.Run(action, func(b *testing.B) {
			null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				b.Fatal(err)
			}
			defer null.Close()
			m, err := New(Parse([]string{"T", "papp", action}), int(null.Fd()), io.Discard, Pause)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			in := benchInput()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				m.feed(in, false)
				m.flush()
			}
		})
	}
}
