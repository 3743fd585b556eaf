// Command compare runs our daemontools beside Debian's daemontools 0.76,
// runit and s6 on the same work in the same run, and prints a markdown
// table of the figures with ratios. bench/run builds our programs and calls
// it; see there for the usage.
//
// Every figure is measured: proportional set size of supervisors and
// scanners, latencies (restart after a crash, beside its floor with no
// supervisor, up command to running, new service directory to running),
// idle wake-ups, and the status tool over many directories. Families take turns within each round
// and the figures are medians. Every process started is killed at the end:
// the harness is a child subreaper, so nothing escapes it.
package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sizes says how much work each figure gets.
type sizes struct {
	few, many, memRounds   int
	samples, appearSamples int
	idleWindow             time.Duration
	statusDirs, statusRuns int
	settle                 time.Duration
	clientRuns             int
}

var (
	full  = sizes{50, 500, 3, 15, 10, time.Minute, 300, 20, time.Second, 200}
	smoke = sizes{5, 20, 1, 1, 1, time.Second, 20, 2, 100 * time.Millisecond, 3}
)

var columns = []string{"ours", "daemontools", "runit", "s6"}

// figures names the groups of figures, in the order they are taken.
var figures = []string{"memory", "restart", "up", "appear", "idle", "status", "clients"}

// A row is one figure; a missing value is shown as its note.
type row struct {
	figure string
	values map[string]float64
	notes  map[string]string
}

func main() {
	ours := flag.String("ours", "", "directory of our built programs")
	isSmoke := flag.Bool("smoke", false, "a quick run that only checks the harness works")
	only := flag.String("only", "", "comma-separated figures to take, of "+strings.Join(figures, ","))
	flag.Parse()
	if *ours == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "compare: usage: compare -ours DIR [-smoke] [-only FIGURES]")
		os.Exit(100)
	}
	take := map[string]bool{}
	for _, f := range figures {
		take[f] = *only == ""
	}
	for _, f := range strings.Split(*only, ",") {
		if _, ok := take[f]; !ok && f != "" {
			fmt.Fprintf(os.Stderr, "compare: fatal: no figure %q, only %s\n", f, strings.Join(figures, ","))
			os.Exit(100)
		}
		take[f] = true
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "compare: fatal: unable to become a subreaper:", err)
		os.Exit(111)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-signals
		stopAll()
		os.Exit(111)
	}()
	sz := full
	if *isSmoke {
		sz = smoke
	}
	err := run(*ours, sz, take, os.Stdout)
	if serr := stopAll(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "compare: fatal:", err)
		os.Exit(111)
	}
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "compare: "+format+"\n", args...)
}

func run(ours string, sz sizes, take map[string]bool, out io.Writer) error {
	work, err := os.MkdirTemp("", "compare.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	fams := families(ours)
	me := fams[0]
	withOne := fams // and ours under svscan -1, where the figure has a row for it
	if one := oneProcess(me); one != nil {
		withOne = append(append([]*family{}, fams...), one)
	}
	var rows []row
	add := func(figure string, values map[string]float64, missing map[string]string) {
		rows = append(rows, row{figure, values, missing})
	}
	notBuilt := func(prog string) map[string]string {
		if prog == "" {
			return map[string]string{"ours": "not built yet"}
		}
		return nil
	}

	for _, n := range []int{sz.few, sz.many} {
		if !take["memory"] {
			break
		}
		progress("memory with %d services", n)
		scan, sup, tree, err := memory(withOne, work, n, sz.memRounds, sz.settle)
		if err != nil {
			return err
		}
		add(fmt.Sprintf("PSS per supervisor, %d services, KiB", n), sup, notBuilt(me.supervisor))
		add(fmt.Sprintf("PSS of the scanner, %d services, KiB", n), scan, notBuilt(me.scanner))
		add(fmt.Sprintf("PSS of the supervision tree, %d services, KiB", n), tree, notBuilt(me.scanner))
		add(fmt.Sprintf("PSS of the supervision tree, ours under svscan -1, %d services, KiB", n), asOurs(tree, "ours -1"), notBuilt(me.scanner))
	}

	if take["restart"] {
		progress("restart after a crash, %d samples", sz.samples)
		lat, err := restart(withOne, work, sz.samples)
		if err != nil {
			return err
		}
		addLatency(add, "restart after SIGKILL", lat, notBuilt(me.supervisor))
		addLatency(add, "restart after SIGKILL, ours under svscan -1", asOurs(lat, "ours -1"), notBuilt(me.scanner))
		addFloor(add, lat, notBuilt(me.supervisor))
	}

	if take["up"] {
		progress("up command to running, %d samples", sz.samples)
		lat, err := up(withOne, work, "up", sz.samples)
		if err != nil {
			return err
		}
		upBuilt := me.supervisor
		if me.up == nil {
			upBuilt = ""
		}
		addLatency(add, "svc -u / sv up / s6-svc -u to running", lat, notBuilt(upBuilt))
		addLatency(add, "svc -u to running, ours under svscan -1", asOurs(lat, "ours -1"), notBuilt(me.scanner))

		// Our svc pays the Go runtime's start-up, about half a
		// millisecond; with Debian's svc driving both, the figure is
		// supervise's own.
		progress("Debian's svc -u to running, %d samples", sz.samples)
		driven := *me
		driven.up, driven.down = fams[1].up, fams[1].down
		if lat, err = up([]*family{&driven, fams[1]}, work, "debian-svc", sz.samples); err != nil {
			return err
		}
		addLatency(add, "Debian's svc -u to running", lat, notBuilt(me.supervisor))
	}

	if take["appear"] {
		progress("new service directory to running, %d samples", sz.appearSamples)
		lat, err := appear(withOne, work, sz.appearSamples)
		if err != nil {
			return err
		}
		addLatency(add, "new service directory to running (s6: with s6-svscanctl -a)", lat, notBuilt(me.scanner))
		addLatency(add, "new service directory to running, ours under svscan -1", asOurs(lat, "ours -1"), notBuilt(me.scanner))
	}

	if take["idle"] {
		progress("idle wake-ups over %v", sz.idleWindow)
		scan, sup, tree, err := idle(withOne, work, sz.few, sz.idleWindow)
		if err != nil {
			return err
		}
		add(fmt.Sprintf("idle wake-ups per minute, one supervisor (of %d)", sz.few), sup, notBuilt(me.supervisor))
		add("idle wake-ups per minute, scanner", scan, notBuilt(me.scanner))
		add(fmt.Sprintf("idle wake-ups per minute, supervision tree, %d services", sz.few), tree, notBuilt(me.scanner))
		add(fmt.Sprintf("idle wake-ups per minute, supervision tree, ours under svscan -1, %d services", sz.few), asOurs(tree, "ours -1"), notBuilt(me.scanner))
	}

	if take["status"] {
		progress("status of %d services", sz.statusDirs)
		svstatOurs := filepath.Join(ours, "svstat")
		if _, err := os.Stat(svstatOurs); err != nil {
			svstatOurs = ""
		}
		st, err := status(fams, svstatOurs, work, sz.statusDirs, sz.statusRuns)
		if err != nil {
			return err
		}
		add(fmt.Sprintf("svstat / sv status over %d directories, ms", sz.statusDirs), st, notBuilt(svstatOurs))
	}

	if take["clients"] {
		progress("clients as whole processes, %d runs each", sz.clientRuns)
		times, err := clients(ours, work, sz.clientRuns)
		if err != nil {
			return err
		}
		for _, c := range clientFigures {
			add(fmt.Sprintf("%s, whole process, median of %d, ms", c.figure, sz.clientRuns), times[c.figure], nil)
		}
	}

	printTable(out, rows)
	fmt.Fprint(out, notes)
	if me.scanner == "" && me.supervisor != "" {
		fmt.Fprintln(out, "- Our supervise ran under Debian's svscan (ours is not built yet).")
	}
	return nil
}

// notes says how the figures were taken, under the table.
const notes = `
- PSS: /proc/PID/smaps_rollup of the scanner and of every supervisor,
  each family running alone, every service started (./run notes its start,
  then execs sleep).
- Latencies: from the kill (or the command being run, or the rename into
  the scan directory) to ./run noting its start; the service started more
  than a second before each sample (every supervisor delays restarts that
  come sooner). s6-supervise waits a second after a death by design;
  s6-svscan scans only when told, so its figure includes s6-svscanctl -a;
  daemontools' svscan and runsvdir look every five seconds.
- Restart floor: the same sample with no supervisor, once a round, the
  harness itself killing ./run, reaping it and starting it again (the
  process dying, fork and exec of the shell, its append to starts, the
  polling); a supervisor's own part is its median minus the floor.
- Clients: svstat, svc and svok from fork to exit, on one service
  Debian's supervise keeps up, ours and daemontools' taking turns.
- Wake-ups: voluntary context switches of all threads over one window,
  all families running at once (ours in both modes), each with the smaller
  number of services; the supervision tree is the scanner and every
  supervisor, services left out.
`

func addLatency(add func(string, map[string]float64, map[string]string), what string, lat latencies, missing map[string]string) {
	p50, p95 := map[string]float64{}, map[string]float64{}
	for name, xs := range lat {
		p50[name], p95[name] = median(xs), quantile(xs, 0.95)
	}
	n := 0
	for _, xs := range lat {
		n = len(xs)
	}
	add(fmt.Sprintf("%s, median of %d, ms", what, n), p50, missing)
	add(fmt.Sprintf("%s, p95 of %d, ms", what, n), p95, missing)
}

// addFloor adds the restart floor, the same in every column, and each
// supervisor's median above it, ours in both modes.
func addFloor(add func(string, map[string]float64, map[string]string), lat latencies, missing map[string]string) {
	floor := median(lat["floor"])
	all, own := map[string]float64{}, map[string]float64{}
	for name, xs := range lat {
		if name != "floor" {
			all[name], own[name] = floor, median(xs)-floor
		}
	}
	add(fmt.Sprintf("restart floor, no supervisor, median of %d, ms", len(lat["floor"])), all, nil)
	add("restart, supervisor's own part (median minus floor), ms", own, missing)
	add("restart, supervisor's own part, ours under svscan -1, ms", asOurs(own, "ours -1"), missing)
}

// printTable writes the rows as markdown; the ratio columns are peer
// divided by ours, so above 1 means ours is better (every figure is lower
// is better).
func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| figure (lower is better) | ours | daemontools 0.76 | runit | s6 | daemontools ÷ ours | runit ÷ ours | s6 ÷ ours |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		cells := []string{r.figure}
		for _, c := range columns {
			cells = append(cells, cell(r, c))
		}
		for _, c := range columns[1:] {
			cells = append(cells, ratio(r, c))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

func cell(r row, name string) string {
	if note, ok := r.notes[name]; ok {
		return note
	}
	v, ok := r.values[name]
	if !ok || math.IsNaN(v) {
		return "—"
	}
	return number(v)
}

func number(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func ratio(r row, peer string) string {
	if _, ok := r.notes["ours"]; ok {
		return ""
	}
	o, ok1 := r.values["ours"]
	p, ok2 := r.values[peer]
	if !ok1 || !ok2 || math.IsNaN(o) || math.IsNaN(p) || o <= 0 {
		return ""
	}
	if p/o >= 10 {
		return fmt.Sprintf("%.0f", p/o)
	}
	return fmt.Sprintf("%.2f", p/o)
}
