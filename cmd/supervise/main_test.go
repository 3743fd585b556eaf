package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"daemontools/internal/status"
	"daemontools/internal/svtest"
	"daemontools/internal/tai64"
	"daemontools/internal/testbin"
)

func TestMain(m *testing.M) {
	if os.Getenv(notifyHelperEnv) != "" {
		notifyHelper(os.Args[1:])
		return
	}
	svtest.Main(m)
}

// signalRun logs each signal it gets to "signals", exiting on TERM, and
// its pid to "starts" once its traps are set.
const signalRun = `for s in HUP ALRM INT CONT; do trap "echo $s >> signals" $s; done
trap 'echo TERM >> signals; exit 0' TERM
echo $$ >> starts
while :; do sleep 1 & wait; done
`

// newService makes a service directory whose run is the sh script body.
func newService(t *testing.T, body string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "svc")
	svtest.NewService(t, dir, body)
	return dir
}

// startRecorded starts supervise on dir under a shell that writes its exit
// code to the returned file once it exits; it returns supervise's pid.
func startRecorded(t *testing.T, dir string) (int, string) {
	t.Helper()
	code := filepath.Join(t.TempDir(), "code")
	prog := testbin.Path(t, "supervise")
	g := svtest.Start(t, exec.Command("sh", "-c", `"$0" "$1"; echo $? > "$2"`, prog, dir, code))
	var pid int
	svtest.WaitFor(t, 5*time.Second, "supervise to start", func() bool {
		for _, p := range svtest.Procs(g.Cmd.Process.Pid) {
			if len(p.Args) == 2 && p.Args[0] == prog {
				pid = p.Pid
				return true
			}
		}
		return false
	})
	return pid, code
}

// exitCode waits for the code startRecorded's shell writes.
func exitCode(t *testing.T, file string) string {
	t.Helper()
	var code []string
	svtest.WaitFor(t, 5*time.Second, "supervise to exit", func() bool {
		code = lines(t, file)
		return len(code) == 1
	})
	return code[0]
}

func isUp(s status.Status) bool   { return s.Pid != 0 }
func isDown(s status.Status) bool { return s.Pid == 0 }

// running waits for supervise/ok to have a reader.
func running(t *testing.T, dir string) {
	t.Helper()
	svtest.WaitFor(t, 5*time.Second, "supervise to run", func() bool {
		fd, err := syscall.Open(filepath.Join(dir, "supervise/ok"), syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			return false
		}
		syscall.Close(fd)
		return true
	})
}

func lines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func TestFilesAndStatusRecord(t *testing.T) {
	t.Parallel()
	dir := newService(t, "exec sleep 100\n")
	before := tai64.Now()
	svtest.StartSupervise(t, dir)
	running(t, dir)
	s := svtest.WaitStatus(t, dir, "service up", isUp)
	after := tai64.Now()

	modes := map[string]os.FileMode{
		"supervise":         os.ModeDir | 0o700,
		"supervise/lock":    0o600,
		"supervise/control": os.ModeNamedPipe | 0o600,
		"supervise/ok":      os.ModeNamedPipe | 0o600,
		"supervise/status":  0o644,
	}
	for name, want := range modes {
		fi, err := os.Lstat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "supervise/status"))
	// daemontools' 18 bytes, then ours (see status_extension_test.go).
	if ext, err := status.DecodeAll(b); err != nil || ext.State != status.Running {
		t.Fatalf("status %q: %v, state %d", b, err, ext.State)
	}
	// Field by field, from the raw bytes.
	label := tai64.Unpack(b[0:12])
	if label.Sec < before.Sec || label.Sec > after.Sec {
		t.Errorf("label %v not between %v and %v", label, before, after)
	}
	pid := int(b[12]) | int(b[13])<<8 | int(b[14])<<16 | int(b[15])<<24
	if pid != s.Pid {
		t.Errorf("pid bytes %d, decoded %d", pid, s.Pid)
	}
	// The status names the pid as soon as it exists; ./run execs sleep soon after.
	svtest.WaitFor(t, 5*time.Second, "the recorded pid to run sleep 100", func() bool {
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return string(cmdline) == "sleep\x00100\x00"
	})
	if b[16] != 0 || b[17] != 'u' {
		t.Errorf("paused %d want %q, want 0 'u'", b[16], b[17])
	}
	if _, err := os.Stat(filepath.Join(dir, "supervise/status.new")); !os.IsNotExist(err) {
		t.Errorf("status.new left behind: %v", err)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	dir := newService(t, signalRun)
	file := func(name string) string { return filepath.Join(dir, name) }
	svtest.StartSupervise(t, dir)
	first := svtest.WaitStatus(t, dir, "service up", isUp)
	waitSignals := func(want ...string) {
		t.Helper()
		svtest.WaitFor(t, 5*time.Second, "signals "+strings.Join(want, " "), func() bool {
			return slices.Equal(lines(t, file("signals")), want)
		})
	}
	// A start shows in the status at fork; ./run writes its line once its
	// traps are set, and only then may the next command be sent.
	started := func(n int) {
		t.Helper()
		svtest.WaitFor(t, 5*time.Second, "start "+strconv.Itoa(n)+" of run", func() bool { return len(lines(t, file("starts"))) >= n })
	}
	started(1)

	svtest.OurSvc(t, "-h", dir)
	waitSignals("HUP")
	svtest.OurSvc(t, "-a", dir)
	waitSignals("HUP", "ALRM")
	svtest.OurSvc(t, "-i", dir)
	waitSignals("HUP", "ALRM", "INT")

	svtest.OurSvc(t, "-p", dir)
	s := svtest.WaitStatus(t, dir, "paused", func(s status.Status) bool { return s.Paused })
	svtest.WaitFor(t, 5*time.Second, "run stopped", func() bool { st, _ := svtest.ReadStat(s.Pid); return st.State == 'T' })
	if s.Pid != first.Pid || s.Since != first.Since || s.Want != 'u' {
		t.Errorf("after -p: %+v, before %+v", s, first)
	}
	svtest.OurSvc(t, "-c", dir)
	svtest.WaitStatus(t, dir, "not paused", func(s status.Status) bool { return !s.Paused })
	waitSignals("HUP", "ALRM", "INT", "CONT")

	// t: the service exits and, wanted up, is started again.
	svtest.OurSvc(t, "-t", dir)
	second := svtest.WaitStatus(t, dir, "restart after -t", func(s status.Status) bool { return isUp(s) && s.Pid != first.Pid })
	started(2)
	waitSignals("HUP", "ALRM", "INT", "CONT", "TERM")
	// k: likewise.
	svtest.OurSvc(t, "-k", dir)
	third := svtest.WaitStatus(t, dir, "restart after -k", func(s status.Status) bool { return isUp(s) && s.Pid != second.Pid })
	started(3)

	// d: TERM, then down and wanted down.
	svtest.OurSvc(t, "-d", dir)
	s = svtest.WaitStatus(t, dir, "down", isDown)
	if s.Want != 'd' || s.Paused {
		t.Errorf("after -d: %+v", s)
	}
	if got := lines(t, file("starts")); len(got) != 3 || got[2] != strconv.Itoa(third.Pid) {
		t.Errorf("starts %v, last want %d", got, third.Pid)
	}
	// o: up once, not restarted when it exits.
	svtest.OurSvc(t, "-o", dir)
	s = svtest.WaitStatus(t, dir, "up once", isUp)
	if s.Want != 0 {
		t.Errorf("after -o: want %q", s.Want)
	}
	started(4)
	svtest.OurSvc(t, "-k", dir)
	s = svtest.WaitStatus(t, dir, "down after -o -k", isDown)
	// u: up, wanted up.
	svtest.OurSvc(t, "-u", dir)
	s = svtest.WaitStatus(t, dir, "up after -u", isUp)
	if s.Want != 'u' {
		t.Errorf("after -u: want %q", s.Want)
	}
	started(5)
	if n := len(lines(t, file("starts"))); n != 5 {
		t.Errorf("%d starts, want 5 (no restart after -o)", n)
	}
	// Unknown bytes change nothing.
	f, err := os.OpenFile(file("supervise/control"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("zZ?\n\x00")
	testbin.Must(t, err)
	testbin.Must(t, f.Close())
	seen := len(lines(t, file("signals")))
	svtest.OurSvc(t, "-h", dir) // after the junk, so its effect shows the junk was read
	svtest.WaitFor(t, 5*time.Second, "HUP after unknown bytes", func() bool {
		got := lines(t, file("signals"))
		return len(got) == seen+1 && got[seen] == "HUP"
	})
	if now, _ := svtest.ReadStatus(t, dir); now != s {
		t.Errorf("after unknown bytes: %+v, want %+v", now, s)
	}
}

// TestSigtermIsDownAndExit also removes supervise/control first, in one
// case: SIGTERM must not depend on the FIFO's name.
func TestSigtermIsDownAndExit(t *testing.T) {
	t.Parallel()
	for _, removed := range []bool{false, true} {
		t.Run(fmt.Sprintf("control removed %v", removed), func(t *testing.T) { sigtermTest(t, removed) })
	}
}

func sigtermTest(t *testing.T, removeControl bool) {
	dir := newService(t, signalRun)
	pid, codeFile := startRecorded(t, dir)
	svtest.WaitStatus(t, dir, "service up", isUp)
	svtest.WaitFor(t, 5*time.Second, "run to start", func() bool { return len(lines(t, filepath.Join(dir, "starts"))) == 1 })
	if removeControl {
		if err := os.Remove(filepath.Join(dir, "supervise/control")); err != nil {
			t.Fatal(err)
		}
	}
	syscall.Kill(pid, syscall.SIGTERM)
	if code := exitCode(t, codeFile); code != "0" {
		t.Errorf("exit code %s", code)
	}
	// TERM, then CONT, which the shell may see before it exits; or even
	// first: CONT coming while the shell starts TERM's trap has its own
	// trap run before the first command of TERM's.
	if got := lines(t, filepath.Join(dir, "signals")); !slices.Equal(got, []string{"TERM"}) &&
		!slices.Equal(got, []string{"TERM", "CONT"}) && !slices.Equal(got, []string{"CONT", "TERM"}) {
		t.Errorf("service got %v, want TERM (and CONT)", got)
	}
	if s, _ := svtest.ReadStatus(t, dir); s.Pid != 0 || s.Want != 'd' {
		t.Errorf("final status %+v", s)
	}
}

func TestNormallyDown(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo $$ >> starts\nexec sleep 100\n")
	testbin.Must(t, os.WriteFile(filepath.Join(dir, "down"), nil, 0o644))
	svtest.StartSupervise(t, dir)
	running(t, dir)
	s, _ := svtest.ReadStatus(t, dir)
	if s.Pid != 0 || s.Want != 'd' || s.Paused {
		t.Errorf("normally down service: %+v", s)
	}
	if got := lines(t, filepath.Join(dir, "starts")); len(got) != 0 {
		t.Errorf("started %v", got)
	}
	svtest.OurSvc(t, "-u", dir)
	svtest.WaitStatus(t, dir, "up after -u", func(s status.Status) bool { return isUp(s) && s.Want == 'u' })
}

func TestLockConflict(t *testing.T) {
	t.Parallel()
	dir := newService(t, "exec sleep 100\n")
	svtest.StartSupervise(t, dir)
	running(t, dir)
	cmd := exec.Command(testbin.Path(t, "supervise"), dir)
	out, err := cmd.CombinedOutput()
	want := "supervise: fatal: unable to acquire " + dir + "/supervise/lock: temporary failure\n"
	if cmd.ProcessState.ExitCode() != 111 || string(out) != want {
		t.Errorf("second supervise: %v %q, want 111 %q", err, out, want)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	testbin.Must(t, os.WriteFile(file, nil, 0o644))
	usage := testbin.Usage("supervise: usage: supervise dir")
	testbin.LikeReference(t, nil, "supervise", []testbin.Case{
		{Args: nil, Want: usage},
		// Usage before anything else, so a supervise that took the
		// directory would fail otherwise (and not run a service).
		{Args: []string{file, "more"}, Want: usage},
		{Args: []string{"-x", "y"}, Want: usage},
		{Args: []string{""}, Want: testbin.Fatal("supervise: fatal: unable to chdir to : file does not exist")},
		{Args: []string{filepath.Join(dir, "none")}, Want: testbin.Fatal("supervise: fatal: unable to chdir to " + dir + "/none: file does not exist")},
		{Args: []string{file}, Want: testbin.Fatal("supervise: fatal: unable to chdir to " + file + ": not a directory")},
	})
}

// A directory supervise may not enter is refused as daemontools' supervise
// refuses it, before anything in it is touched, for the effective user:
// root's real uid under a lowered euid (setpriv --euid) does not let it in.
func TestEnterDirectoryLikeReference(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testbin.PublicDir(t), "private")
	testbin.Must(t, os.Mkdir(dir, 0o700))
	want := testbin.Fatal("supervise: fatal: unable to chdir to " + dir + ": access denied")
	for _, as := range [][]string{{"--euid=65534"}, {"--reuid=65534", "--regid=65534", "--clear-groups"}} {
		for _, prog := range []string{testbin.Path(t, "supervise"), testbin.Reference(t, "supervise")} {
			cmd := exec.Command("setpriv", append(as, prog, dir)...)
			if got := testbin.Run(t, cmd); got != want {
				t.Errorf("setpriv %v %s: got %+v, want %+v", as, prog, got, want)
			}
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left in %s: %v", dir, entries)
	}
}

// A run that cannot be started is reported and retried once a second;
// supervise stays up and obeys commands meanwhile.
func TestRunNotStartable(t *testing.T) {
	t.Parallel()
	missing := testbin.Missing(t)
	tests := []struct {
		name   string
		prep   func(t *testing.T, run string) error
		reason string
	}{
		{"missing", func(_ *testing.T, run string) error { return os.Remove(run) }, "file does not exist"},
		{"not executable", func(_ *testing.T, run string) error { return os.Chmod(run, 0o644) }, "access denied"},
		{"bad interpreter", func(t *testing.T, run string) error {
			svtest.WriteFile(t, run, []byte("#!"+missing+"\n"), 0o755)
			return nil
		}, "file does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := newService(t, "exec sleep 100")
			testbin.Must(t, tc.prep(t, filepath.Join(dir, "run")))
			_, errFile := svtest.StartSupervise(t, dir)
			line := "supervise: fatal: unable to start " + dir + "/run: " + tc.reason
			svtest.WaitFor(t, 5*time.Second, "two attempts", func() bool {
				b, _ := os.ReadFile(errFile)
				return strings.Count(string(b), line+"\n") >= 2
			})
			b, _ := os.ReadFile(errFile)
			if strings.ReplaceAll(string(b), line+"\n", "") != "" {
				t.Errorf("stderr %q, want lines %q", b, line)
			}
			running(t, dir)
			s, _ := svtest.ReadStatus(t, dir)
			if s.Pid != 0 || s.Want != 'u' {
				t.Errorf("status %+v", s)
			}
			// Once run is fixed, the next attempt starts it.
			svtest.WriteFile(t, filepath.Join(dir, "run"), []byte("#!/bin/sh\nexec sleep 100\n"), 0o755)
			testbin.Must(t, os.Chmod(filepath.Join(dir, "run"), 0o755))
			svtest.WaitStatus(t, dir, "up once run is fixed", isUp)
		})
	}
}

// A run that exits at once is started again a second after its last start,
// and commands are obeyed in the gap: -d there means no start after it.
func TestRestartThrottle(t *testing.T) {
	t.Parallel()
	dir := newService(t, svtest.LogStartTime+"starts")
	starts := filepath.Join(dir, "starts")
	svtest.StartSupervise(t, dir)
	svtest.WaitFor(t, 10*time.Second, "four starts", func() bool { return len(svtest.ReadStartTimes(t, starts)) >= 4 })
	times := svtest.ReadStartTimes(t, starts)
	for i := 1; i < len(times); i++ {
		// supervise takes the time of a start a little before it forks,
		// and load may delay the fork: allow for both.
		if gap := times[i].Sub(times[i-1]); gap < time.Second-svtest.Scaled(50*time.Millisecond) || gap > time.Second+svtest.Scaled(300*time.Millisecond) {
			t.Errorf("starts %d and %d %v apart, want a second", i-1, i, gap)
		}
	}
	svtest.StopsInRestartGap(t, testbin.Path(t, "svc"), dir, starts)
}

// The child gets supervise's environment, signal mask, ignored signals,
// limits, process group and session, and only descriptors 0, 1 and 2.
func TestChildInherits(t *testing.T) {
	t.Parallel()
	// perl, unlike sh, leaves the signal mask as it finds it.
	dir := newService(t, "")
	svtest.WriteFile(t, filepath.Join(dir, "run"), []byte(`#!/usr/bin/perl
opendir(my $fds, "/proc/self/fd") or die;
my @fds = sort grep(!/^\./ && $_ != fileno($fds), readdir($fds));
open(my $report, ">", "report") or die;
print $report "env $ENV{SUPERVISE_TEST}", map(" $_", sort grep(/GOMAXPROCS/, keys %ENV)), "\n";
for my $file ("/proc/self/status", "/proc/self/limits") {
	open(my $f, "<", $file) or die;
	print $report grep(/^(SigBlk|SigIgn|Max open files)/, <$f>);
}
print $report "fds @fds\n";
close($report);
exec "sleep", "100";
`), 0o755)
	errFile := filepath.Join(t.TempDir(), "stderr")
	f, err := os.Create(errFile)
	testbin.Must(t, err)
	defer f.Close()
	// sh lowers the limit, then perl sets the mask and ignored signals
	// supervise starts with (sh would reset the mask).
	cmd := exec.Command("sh", "-c", `ulimit -Sn 200 && exec perl -e '
		use POSIX; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(10, 28)) or die;
		$SIG{HUP} = "IGNORE"; $SIG{INT} = "IGNORE"; exec @ARGV or die' "$0" "$1"`,
		testbin.Path(t, "supervise"), dir)
	cmd.Env = append(os.Environ(), "SUPERVISE_TEST=inherited")
	cmd.Stderr = f
	g := svtest.Start(t, cmd)
	s := svtest.WaitStatus(t, dir, "service up", isUp)
	var report []string
	svtest.WaitFor(t, 5*time.Second, "report", func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "report"))
		report = strings.Split(string(b), "\n")
		return len(report) == 6
	})
	// USR1 is signal 10, WINCH 28; HUP 1, INT 2, and perl itself
	// ignores FPE (8).
	// supervise runs itself with GOMAXPROCS=1, which ./run must not see.
	want := []string{"env inherited", "SigBlk:\t0000000008000200", "SigIgn:\t0000000000000083", "Max open files 200", "fds 0 1 2", ""}
	report[3] = strings.Join(strings.Fields(report[3])[:4], " ")
	if !slices.Equal(report, want) {
		t.Errorf("report %q, want %q", report, want)
	}
	// Same process group and session as supervise.
	sup, err := svtest.ReadStat(g.Cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	child, err := svtest.ReadStat(s.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if sup.Pgrp != child.Pgrp || sup.Session != child.Session {
		t.Errorf("supervise pgrp/session %d/%d, child %d/%d", sup.Pgrp, sup.Session, child.Pgrp, child.Session)
	}
}

// Debian's svstat and svc read and control our supervise.
func TestReferenceClientsOnOurs(t *testing.T) {
	t.Parallel()
	dir := newService(t, "exec sleep 100\n")
	svtest.StartSupervise(t, dir)
	running(t, dir)
	svtest.WaitStatus(t, dir, "service up", isUp)
	compareSvstat(t, dir)
	svtest.Svc(t, testbin.Reference(t, "svc"), "-p", dir)
	svtest.WaitStatus(t, dir, "paused", func(s status.Status) bool { return s.Paused })
	compareSvstat(t, dir)
	svtest.Svc(t, testbin.Reference(t, "svc"), "-d", dir)
	svtest.WaitStatus(t, dir, "down", isDown)
	compareSvstat(t, dir)
}

// Our svstat, svc and svok read and control Debian's supervise.
func TestOurClientsOnReference(t *testing.T) {
	t.Parallel()
	dir := newService(t, "exec sleep 100\n")
	svtest.StartSupervise(t, dir, testbin.Reference(t, "supervise"))
	running(t, dir)
	svtest.WaitStatus(t, dir, "service up", isUp)
	compareSvstat(t, dir)
	if out, err := exec.Command(testbin.Path(t, "svok"), dir).CombinedOutput(); err != nil {
		t.Errorf("svok: %v %s", err, out)
	}
	svtest.OurSvc(t, "-p", dir)
	svtest.WaitStatus(t, dir, "paused", func(s status.Status) bool { return s.Paused })
	compareSvstat(t, dir)
	svtest.OurSvc(t, "-d", dir)
	svtest.WaitStatus(t, dir, "down", isDown)
	compareSvstat(t, dir)
	svtest.OurSvc(t, "-u", dir)
	svtest.WaitStatus(t, dir, "up", isUp)
	compareSvstat(t, dir)
}

// compareSvstat checks that our svstat and Debian's print the same line,
// trying again while a second boundary falls between the two (load can
// make that happen many times).
func compareSvstat(t *testing.T, dir string) {
	t.Helper()
	var ours, theirs []byte
	if !svtest.Poll(5*time.Second, func() bool {
		var err error
		if ours, err = exec.Command(testbin.Path(t, "svstat"), dir).Output(); err != nil {
			t.Fatal(err)
		}
		if theirs, err = exec.Command(testbin.Reference(t, "svstat"), dir).Output(); err != nil {
			t.Fatal(err)
		}
		return string(ours) == string(theirs)
	}) {
		t.Errorf("svstat %s: ours %q, daemontools %q", dir, ours, theirs)
	}
}

// A GOMAXPROCS of the user's reaches ./run unchanged.
func TestUserGomaxprocs(t *testing.T) {
	t.Parallel()
	dir := newService(t, "echo \"$GOMAXPROCS${SUPERVISE_GOMAXPROCS+ marked}\" > report\nexec sleep 100\n")
	cmd := exec.Command(testbin.Path(t, "supervise"), dir)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=3")
	svtest.Start(t, cmd)
	svtest.WaitFor(t, 5*time.Second, "report", func() bool { return len(lines(t, filepath.Join(dir, "report"))) > 0 })
	if got := lines(t, filepath.Join(dir, "report")); !slices.Equal(got, []string{"3"}) {
		t.Errorf("./run sees GOMAXPROCS %q, want 3", got)
	}
}
