package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Every supervisor waits a second between two starts of a service, so
// samples of one family are taken at least this far apart.
const restartGap = 1100 * time.Millisecond

// A latencies holds one family's samples in milliseconds.
type latencies map[string][]float64

// supervised starts each family's supervisor directly on a service
// directory of its own and waits until it obeys commands.
func supervised(fams []*family, work, kind string, down bool) (map[string]string, map[string]int, error) {
	dirs, pids := map[string]string{}, map[string]int{}
	for _, f := range fams {
		if f.supervisor == "" {
			continue
		}
		dir := filepath.Join(work, kind+"-"+f.name)
		argv := []string{f.supervisor, dir}
		if f.oneProcess {
			argv = f.scan(dir)
			dir = filepath.Join(dir, "s")
		}
		if err := makeService(dir, down); err != nil {
			return dirs, pids, err
		}
		pid, err := start(argv, f.path, filepath.Join(work, f.name+".log"))
		if err != nil {
			return dirs, pids, err
		}
		dirs[f.name], pids[f.name] = dir, pid
		ready := func() bool {
			_, err := os.Stat(filepath.Join(dir, f.ready))
			k, _ := starts(dir)
			return err == nil && (down || k > 0)
		}
		if err := waitFor(f.name+": "+f.supervisor+" ready", 10*time.Second, ready); err != nil {
			return dirs, pids, err
		}
	}
	time.Sleep(restartGap)
	return dirs, pids, nil
}

func stopEach(pids map[string]int, err error) error {
	for _, pid := range pids {
		if serr := stop(pid); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// turns starts each family's supervisor on a service directory of its own
// and takes samples, the families taking turns in a rotating order, each
// family's samples at least restartGap apart.
func turns(fams []*family, work, kind string, down bool, samples int, sample func(f *family, dir string) (time.Duration, error)) (lat latencies, err error) {
	dirs, pids, err := supervised(fams, work, kind, down)
	defer func() { err = stopEach(pids, err) }()
	if err != nil {
		return nil, err
	}
	lat = latencies{}
	last := map[string]time.Time{}
	for i := range samples {
		// Each family goes first as often as the others: the first of a
		// turn meets a machine that has been idle for a second.
		for j := range fams {
			f := fams[(i+j)%len(fams)]
			dir, ok := dirs[f.name]
			if !ok {
				continue
			}
			time.Sleep(time.Until(last[f.name].Add(restartGap)))
			last[f.name] = time.Now()
			d, err := sample(f, dir)
			if err != nil {
				return nil, err
			}
			lat[f.name] = append(lat[f.name], ms(d))
		}
	}
	return lat, nil
}

// restart measures how long each supervisor takes to run the service again
// after it was killed with SIGKILL. Once a round, before ours, it also
// takes the floor (family "floor"): the same sample with no supervisor, the
// harness killing, reaping and starting ./run itself, which is what every
// supervisor pays whatever it does.
func restart(fams []*family, work string, samples int) (latencies, error) {
	floorDir := filepath.Join(work, "restart-floor")
	if err := makeService(floorDir, false); err != nil {
		return nil, err
	}
	floorPid, err := startRun(floorDir, 0)
	if err != nil {
		return nil, err
	}
	defer func() {
		if floorPid > 0 {
			unix.Kill(floorPid, unix.SIGKILL)
			unix.Wait4(floorPid, nil, 0, nil)
		}
	}()
	var floor []float64
	lat, err := turns(fams, work, "restart", false, samples, func(f *family, dir string) (time.Duration, error) {
		if f == fams[0] {
			t0 := time.Now()
			pid, err := startRun(floorDir, floorPid)
			if floorPid = pid; err != nil {
				return 0, err
			}
			floor = append(floor, ms(time.Since(t0)))
		}
		n, pid := starts(dir)
		t0 := time.Now()
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			return 0, fmt.Errorf("%s: kill %d: %v", f.name, pid, err)
		}
		err := waitFor(f.name+": restart", 10*time.Second, func() bool { k, _ := starts(dir); return k > n })
		return time.Since(t0), err
	})
	if lat != nil {
		lat["floor"] = floor
	}
	return lat, err
}

// startRun kills and reaps the harness's own ./run in dir (pid 0: none),
// then starts it again and waits until it has noted its start; it returns
// the new pid.
func startRun(dir string, pid int) (int, error) {
	n, _ := starts(dir)
	if pid != 0 {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil {
			return 0, fmt.Errorf("floor: kill %d: %v", pid, err)
		}
		if _, err := unix.Wait4(pid, nil, 0, nil); err != nil {
			return 0, fmt.Errorf("floor: wait %d: %v", pid, err)
		}
	}
	p, err := os.StartProcess("./run", []string{"./run"}, &os.ProcAttr{Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		return 0, fmt.Errorf("floor: %v", err)
	}
	pid = p.Pid
	p.Release()
	return pid, waitFor("floor: start", 10*time.Second, func() bool { k, _ := starts(dir); return k > n })
}

// up measures from running the up command (svc -u, sv up, s6-svc -u) to
// the service running, then takes the service down again. Its service
// directories are named after kind.
func up(fams []*family, work, kind string, samples int) (latencies, error) {
	var withUp []*family
	for _, f := range fams {
		if f.up != nil {
			withUp = append(withUp, f)
		}
	}
	return turns(withUp, work, kind, true, samples, func(f *family, dir string) (time.Duration, error) {
		n, _ := starts(dir)
		t0 := time.Now()
		if err := command(f.name, f.up(dir)); err != nil {
			return 0, err
		}
		if err := waitFor(f.name+": up", 10*time.Second, func() bool { k, _ := starts(dir); return k > n }); err != nil {
			return 0, err
		}
		d := time.Since(t0)
		_, pid := starts(dir)
		if err := command(f.name, f.down(dir)); err != nil {
			return 0, err
		}
		return d, waitFor(f.name+": down", 10*time.Second, func() bool { return !alive(pid) })
	})
}

// command runs argv and reports its output if it fails.
func command(name string, argv []string) error {
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v: %v: %s", name, argv, err, out)
	}
	return nil
}

// appear measures from a service directory being renamed into the scan
// directory to its service running (for s6, s6-svscanctl -a is part of
// it: s6-svscan scans only when told). Each sample waits a random moment
// first so that polling scanners are met at a random phase.
func appear(fams []*family, work string, samples int) (lat latencies, err error) {
	scans, pids := map[string]string{}, map[string]int{}
	defer func() { err = stopEach(pids, err) }()
	for _, f := range fams {
		if f.scanner == "" {
			continue
		}
		dir := filepath.Join(work, "appear-"+f.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		pid, err := start(f.scan(dir), f.path, filepath.Join(work, f.name+".log"))
		if err != nil {
			return nil, err
		}
		scans[f.name], pids[f.name] = dir, pid
	}
	time.Sleep(500 * time.Millisecond)
	lat = latencies{}
	for i := range samples {
		for _, f := range fams {
			scan, ok := scans[f.name]
			if !ok {
				continue
			}
			src := filepath.Join(work, "appear-src-"+f.name, fmt.Sprintf("s%d", i))
			if err := makeService(src, false); err != nil {
				return nil, err
			}
			dst := filepath.Join(scan, fmt.Sprintf("s%d", i))
			time.Sleep(rand.N(time.Second))
			t0 := time.Now()
			if err := os.Rename(src, dst); err != nil {
				return nil, err
			}
			if f.rescan != nil {
				if err := command(f.name, f.rescan(scan)); err != nil {
					return nil, err
				}
			}
			if err := waitFor(f.name+": new service", 20*time.Second, func() bool { k, _ := starts(dst); return k > 0 }); err != nil {
				return nil, err
			}
			lat[f.name] = append(lat[f.name], ms(time.Since(t0)))
		}
	}
	return lat, nil
}
