package faults

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"daemontools/internal/svtest"
	"daemontools/internal/testbin"
)

// splicer moves a feeder's lines into its pipe with splice(2) from a
// file, in pieces of 1 to 8 bytes: each piece is a pipe buffer of its own,
// as from a zero-copy relay of a socket, so that the start of a line alone
// can fill every buffer the pipe has.
type splicer struct {
	*feeder
	file *os.File
	end  int64 // of the file: it only grows, as the pipe refers to its pages
	rng  *rand.Rand
}

// lines splices the next count lines.
func (s *splicer) lines(count int) error {
	var b bytes.Buffer
	for range count {
		b.WriteString(logLine(s.next))
		b.WriteByte('\n')
		s.next++
	}
	if _, err := s.file.WriteAt(b.Bytes(), s.end); err != nil {
		return err
	}
	for off, end := s.end, s.end+int64(b.Len()); off < end; {
		n := min(1+s.rng.IntN(8), int(end-off))
		if _, err := unix.Splice(int(s.file.Fd()), &off, int(s.w.Fd()), nil, n, 0); err != nil {
			return err
		}
	}
	s.end += int64(b.Len())
	return nil
}

// kill -9 of multilog at random moments under input spliced in pieces so
// small that one line takes more buffers than a pipe has: every line is
// logged whole, in order, as under ordinary writes.
func TestMultilogKill9Fragmented(t *testing.T) {
	t.Parallel()
	needRoot(t)
	rng := svtest.NewRand(t, "FAULTS_SEED")
	root := t.TempDir()
	f := newFeeder(t)
	file, err := os.CreateTemp(t.TempDir(), "lines")
	testbin.Must(t, err)
	defer file.Close()
	// The splicer's own generator: rng serves the kills.
	s := &splicer{feeder: f, file: file, rng: rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))}
	killUnderInput(t, f, root, rng, pick(5, 30), func() error { return s.lines(50) }, "t", "s65536", "n100000", "./log")
}
