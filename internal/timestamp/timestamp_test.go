package timestamp

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"daemontools/internal/localtime"
	"daemontools/internal/tai64"
)

var fixed = tai64.Label{Sec: tai64.Offset + 1_700_000_000, Nano: 5}

const fixedExt = "@400000006553f10a00000005"

func TestStamp(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a\n", fixedExt + " a\n"},
		{"a\nb\n", fixedExt + " a\n" + fixedExt + " b\n"},
		{"\n\n", fixedExt + " \n" + fixedExt + " \n"},
		{"partial", fixedExt + " partial"},
		{"a\nb", fixedExt + " a\n" + fixedExt + " b"},
		{"nul\x00byte\n", fixedExt + " nul\x00byte\n"},
	}
	for _, tc := range tests {
		for _, r := range readers(tc.in) {
			var out bytes.Buffer
			if err := Stamp(r, &out, func() tai64.Label { return fixed }); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("Stamp(%q) = %q, want %q", tc.in, out.String(), tc.want)
			}
		}
	}
}

func TestStampLabelsPerRead(t *testing.T) {
	// A line's label is the one current when its first byte was read.
	n := uint32(0)
	now := func() tai64.Label { n++; return tai64.Label{Sec: tai64.Offset, Nano: n} }
	var out bytes.Buffer
	if err := Stamp(iotest.OneByteReader(strings.NewReader("ab\nc\n")), &out, now); err != nil {
		t.Fatal(err)
	}
	want := "@400000000000000a00000001 ab\n@400000000000000a00000004 c\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestLocal(t *testing.T) {
	label := "@400000006553f10a3b9ac9ff" // 2023-11-14 22:13:20.999999999 UTC
	tests := []struct{ name, in, want string }{
		{"label and text", label + " hello\n", "2023-11-14 22:13:20.999999999 hello\n"},
		{"label alone", label + "\n", "2023-11-14 22:13:20.999999999\n"},
		{"label then non-space", label + "x\n", "2023-11-14 22:13:20.999999999x\n"},
		{"two labels", label + label + "\n", "2023-11-14 22:13:20.999999999" + label + "\n"},
		{"partial last line", label, "2023-11-14 22:13:20.999999999"},
		{"partial short", "@40", "@40"},
		{"plain", "plain\n", "plain\n"},
		{"empty lines", "\n\n", "\n\n"},
		{"indented label", " " + label + "\n", " " + label + "\n"},
		{"bare @", "@\n", "@\n"},
		{"bad digits", "@zz\n", "@zz\n"},
		{"upper case", strings.ToUpper(label) + "\n", strings.ToUpper(label) + "\n"},
		// daemontools takes the last 24 digits of the run: a label here,
		// then not one (where it crashes).
		{"25 digits, the last 24 a label", "@0" + label[1:] + " x\n", "2023-11-14 22:13:20.999999999 x\n"},
		{"many digits", "@" + strings.Repeat("f0", 100) + label[1:] + "\n", "2023-11-14 22:13:20.999999999\n"},
		{"25 digits", label + "0 x\n", label + "0 x\n"},
		{"too short", "@400000006553f10a3b9ac9f\n", "@400000006553f10a3b9ac9f\n"},
		{"before 1970 offset", "@000000006b03e6cb00000000 x\n", "@000000006b03e6cb00000000 x\n"},
		{"past year 9999", "@ffffffffffffffff00000000 x\n", "@ffffffffffffffff00000000 x\n"},
		{"nano overflow", "@400000006553f10affffffff x\n", "2023-11-14 22:13:20.4294967295 x\n"},
		{"small nano", "@400000006553f10a00000007\n", "2023-11-14 22:13:20.000000007\n"},
		{"mixed", "a\n" + label + " b\nc", "a\n2023-11-14 22:13:20.999999999 b\nc"},
		{"binary", "\x00\xff@\n", "\x00\xff@\n"},
	}
	for _, tc := range tests {
		for _, r := range readers(tc.in) {
			var out bytes.Buffer
			if err := Local(r, &out, localtime.UTC); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("%s: Local(%q) = %q, want %q", tc.name, tc.in, out.String(), tc.want)
			}
		}
	}
}

func TestLocalZone(t *testing.T) {
	zone := localtime.Load("XXX1:30", true, "") // UTC-1:30
	var out bytes.Buffer
	if err := Local(strings.NewReader("@400000006553f10a00000000 z\n"), &out, zone); err != nil {
		t.Fatal(err)
	}
	if want := "2023-11-14 20:43:20.000000000 z\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

func TestLocalLongLine(t *testing.T) {
	long := strings.Repeat("x", 3*chunk+17)
	in := "@400000006553f10a00000000 " + long + "\n" + long + "\n"
	var out bytes.Buffer
	if err := Local(strings.NewReader(in), &out, localtime.UTC); err != nil {
		t.Fatal(err)
	}
	want := "2023-11-14 22:13:20.000000000 " + long + "\n" + long + "\n"
	if out.String() != want {
		t.Errorf("long line mangled: got %d bytes, want %d", out.Len(), len(want))
	}
}

// A completed line must come out before the filter blocks on more input.
func TestFiltersFlushBeforeBlocking(t *testing.T) {
	filters := map[string]func(io.Reader, io.Writer) error{
		"Stamp": func(r io.Reader, w io.Writer) error { return Stamp(r, w, func() tai64.Label { return fixed }) },
		"Local": func(r io.Reader, w io.Writer) error { return Local(r, w, localtime.UTC) },
	}
	for name, filter := range filters {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- filter(inR, outW); outW.Close() }()
		go inW.Write([]byte(fixedExt + " line\n"))
		got := make([]byte, 0, 64)
		buf := make([]byte, 64)
		for !bytes.HasSuffix(got, []byte("line\n")) {
			n, err := outR.Read(buf)
			if err != nil {
				t.Fatalf("%s: %v after %q", name, err, got)
			}
			got = append(got, buf[:n]...)
		}
		inW.Close()
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestWriteErrors(t *testing.T) {
	if err := Stamp(strings.NewReader("x\n"), failWriter{}, tai64.Now); err == nil || !strings.Contains(err.Error(), "unable to write output") {
		t.Errorf("Stamp: %v", err)
	}
	if err := Local(strings.NewReader("x\n"), failWriter{}, localtime.UTC); err == nil || !strings.Contains(err.Error(), "unable to write output") {
		t.Errorf("Local: %v", err)
	}
	if err := Local(iotest.ErrReader(io.ErrUnexpectedEOF), io.Discard, localtime.UTC); err == nil || !strings.Contains(err.Error(), "unable to read input") {
		t.Errorf("Local read: %v", err)
	}
}

// readers gives the same input whole, a byte at a time and in halves, so
// every state boundary of the filters is crossed.
func readers(s string) []io.Reader {
	return []io.Reader{
		strings.NewReader(s),
		iotest.OneByteReader(strings.NewReader(s)),
		io.MultiReader(strings.NewReader(s[:len(s)/2]), strings.NewReader(s[len(s)/2:])),
	}
}

func FuzzLocal(f *testing.F) {
	for _, s := range []string{"@400000006553f10a3b9ac9ff x\n", "@\n", "@zz", "@4000000000000000000000000\n", "plain\nline", "@ffffffffffffffffffffffff\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var whole, bytewise bytes.Buffer
		if err := Local(bytes.NewReader(in), &whole, localtime.UTC); err != nil {
			t.Fatal(err)
		}
		if err := Local(iotest.OneByteReader(bytes.NewReader(in)), &bytewise, localtime.UTC); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(whole.Bytes(), bytewise.Bytes()) {
			t.Fatalf("chunking changed the output: %q vs %q", whole.Bytes(), bytewise.Bytes())
		}
		// Lines come out in the same number; lines not starting with "@" pass unchanged.
		if bytes.Count(whole.Bytes(), []byte("\n")) != bytes.Count(in, []byte("\n")) {
			t.Fatalf("line count changed: %q -> %q", in, whole.Bytes())
		}
		if !bytes.Contains(in, []byte("@")) && !bytes.Equal(in, whole.Bytes()) {
			t.Fatalf("text without labels changed: %q -> %q", in, whole.Bytes())
		}
	})
}

func BenchmarkStamp(b *testing.B) {
	in := bytes.Repeat([]byte(strings.Repeat("x", 89)+"\n"), 10000)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Stamp(bytes.NewReader(in), io.Discard, tai64.Now)
	}
}

func BenchmarkLocal(b *testing.B) {
	var in []byte
	for i := range 10000 {
		l := tai64.Label{Sec: tai64.Offset + 1_700_000_000 + uint64(i/100), Nano: uint32(i)}
		in = append(l.AppendExternal(in), " some logged text of an ordinary length for a daemon\n"...)
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Local(bytes.NewReader(in), io.Discard, localtime.UTC)
	}
}
