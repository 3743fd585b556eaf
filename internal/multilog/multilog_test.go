package multilog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchInput is 1 MB of ~90-byte lines.
func benchInput() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		fmt.Fprintf(&b, "%08d service said something of an ordinary length, like a daemon does every so often\n", i)
	}
	return b.Bytes()
}

func benchFeed(b *testing.B, args ...string) {
	// On tmpfs when there is one: the fsync at each rotation is disk
	// time, not the line path's.
	dir, err := os.MkdirTemp("/dev/shm", "multilog-bench")
	if err != nil {
		dir, err = os.MkdirTemp("", "multilog-bench")
	}
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	m, err := New(Parse(append(args, filepath.Join(dir, "d"))), io.Discard)
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
}

// BenchmarkLinePath is the work per byte of multilog t sSIZE DIR, without
// the input's system calls.
func BenchmarkLinePath(b *testing.B) { benchFeed(b, "t", "s16777215", "n2") }

// BenchmarkLinePathPatterns adds patterns, which hold each line's head.
func BenchmarkLinePathPatterns(b *testing.B) {
	benchFeed(b, "t", "-*", "+* service said*", "-*debug*", "s16777215", "n2")
}
