// Command supervise compares our supervise with Debian's daemontools 0.76
// in one run and prints a table of medians and ratios: proportional set
// size per supervise with 50 services (/proc/PID/smaps_rollup), restart
// latency after the service is killed, and the time from `svc -u` to the
// status record showing the service up.
//
// Usage: go run ./bench/supervise [-services 50] [-samples 7]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"daemontools/internal/status"
)

var (
	services = flag.Int("services", 50, "supervise processes for the memory figure")
	samples  = flag.Int("samples", 7, "samples for each latency")
)

func main() {
	flag.Parse()
	work, err := os.MkdirTemp("", "bench-supervise-")
	check(err)
	defer os.RemoveAll(work)
	build := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", work+"/", "./cmd/supervise")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stderr = os.Stderr
	check(build.Run())
	impls := []struct{ name, prog string }{
		{"daemontools 0.76", "/usr/bin/supervise"},
		{"ours", filepath.Join(work, "supervise")},
	}
	type figures struct{ pss, restart, up float64 }
	var results []figures
	for _, im := range impls {
		dir := filepath.Join(work, filepath.Base(filepath.Dir(im.prog))+"-"+strings.ReplaceAll(im.name, " ", ""))
		var f figures
		f.pss = memory(im.prog, dir)
		f.restart, f.up = latencies(im.prog, dir+"-latency")
		results = append(results, f)
	}
	ref, ours := results[0], results[1]
	fmt.Printf("| measure | daemontools 0.76 | ours | ours / daemontools |\n| --- | ---: | ---: | ---: |\n")
	fmt.Printf("| PSS per supervise, %d services (kB) | %.0f | %.0f | %.2f |\n", *services, ref.pss, ours.pss, ours.pss/ref.pss)
	fmt.Printf("| restart after kill, median of %d (ms) | %.2f | %.2f | %.2f |\n", *samples, ref.restart, ours.restart, ours.restart/ref.restart)
	fmt.Printf("| svc -u to up, median of %d (ms) | %.2f | %.2f | %.2f |\n", *samples, ref.up, ours.up, ours.up/ref.up)
}

// service makes a service directory under root whose run sleeps.
func service(root, name string) string {
	dir := filepath.Join(root, name)
	check(os.MkdirAll(dir, 0o755))
	check(os.WriteFile(filepath.Join(dir, "run"), []byte("#!/bin/sh\nexec sleep 1000\n"), 0o755))
	return dir
}

// supervisor is one supervise process this benchmark started.
type supervisor struct {
	cmd *exec.Cmd
	dir string
}

func start(prog, dir string) *supervisor {
	cmd := exec.Command(prog, dir)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	check(cmd.Start())
	return &supervisor{cmd, dir}
}

// stop brings the service down, makes supervise exit and waits for it.
func (s *supervisor) stop() {
	control(s.dir, "dx")
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

func control(dir, commands string) {
	f, err := os.OpenFile(filepath.Join(dir, "supervise/control"), os.O_WRONLY|syscall.O_NONBLOCK, 0)
	check(err)
	_, err = f.WriteString(commands)
	check(err)
	f.Close()
}

func read(dir string) (status.Status, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "supervise/status"))
	if err != nil {
		return status.Status{}, false
	}
	s, err := status.Decode(b)
	return s, err == nil
}

// await polls dir's status until cond holds and returns the time it did.
func await(dir string, cond func(status.Status) bool) (status.Status, time.Time) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, ok := read(dir); ok && cond(s) {
			return s, time.Now()
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "supervise: fatal: timed out waiting on", dir)
			os.Exit(111)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// memory starts n supervise processes, waits until every service is up,
// and returns their mean proportional set size in kB.
func memory(prog, root string) float64 {
	var sups []*supervisor
	for i := range *services {
		sups = append(sups, start(prog, service(root, strconv.Itoa(i))))
	}
	for _, s := range sups {
		await(s.dir, func(s status.Status) bool { return s.Pid != 0 })
	}
	time.Sleep(500 * time.Millisecond) // let start-up garbage settle
	total := 0
	for _, s := range sups {
		total += pss(s.cmd.Process.Pid)
	}
	for _, s := range sups {
		s.stop()
	}
	return float64(total) / float64(len(sups))
}

func pss(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	check(err)
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "Pss:" {
			kb, err := strconv.Atoi(f[1])
			check(err)
			return kb
		}
	}
	panic("no Pss in smaps_rollup")
}

// latencies returns the median milliseconds from killing the service to
// the status showing its successor, and from `svc -u` (Debian's svc) to
// the status showing the service up. Samples are 1.1 seconds apart, past
// supervise's one-second restart throttle.
func latencies(prog, root string) (restart, up float64) {
	s := start(prog, service(root, "one"))
	defer s.stop()
	cur, _ := await(s.dir, func(s status.Status) bool { return s.Pid != 0 })
	var restarts, ups []float64
	for range *samples {
		time.Sleep(1100 * time.Millisecond)
		killed := time.Now()
		check(syscall.Kill(cur.Pid, syscall.SIGKILL))
		old := cur.Pid
		var at time.Time
		cur, at = await(s.dir, func(s status.Status) bool { return s.Pid != 0 && s.Pid != old })
		restarts = append(restarts, ms(at.Sub(killed)))
	}
	for range *samples {
		control(s.dir, "d")
		await(s.dir, func(s status.Status) bool { return s.Pid == 0 })
		time.Sleep(1100 * time.Millisecond)
		sent := time.Now()
		check(exec.Command("/usr/bin/svc", "-u", s.dir).Run())
		_, at := await(s.dir, func(s status.Status) bool { return s.Pid != 0 })
		ups = append(ups, ms(at.Sub(sent)))
	}
	return median(restarts), median(ups)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "supervise: fatal:", err)
		os.Exit(111)
	}
}
