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
		if err := makeService(dir, down); err != nil {
			return dirs, pids, err
		}
		pid, err := start([]string{f.supervisor, dir}, f.path, filepath.Join(work, f.name+".log"))
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

// restart measures how long each supervisor takes to run the service again
// after it was killed with SIGKILL; the families take turns.
func restart(fams []*family, work string, samples int) (lat latencies, err error) {
	dirs, pids, err := supervised(fams, work, "restart", false)
	defer func() { err = stopEach(pids, err) }()
	if err != nil {
		return nil, err
	}
	lat = latencies{}
	for range samples {
		turn := time.Now()
		for _, f := range fams {
			dir, ok := dirs[f.name]
			if !ok {
				continue
			}
			n, pid := starts(dir)
			t0 := time.Now()
			if err := unix.Kill(pid, unix.SIGKILL); err != nil {
				return nil, fmt.Errorf("%s: kill %d: %v", f.name, pid, err)
			}
			if err := waitFor(f.name+": restart", 10*time.Second, func() bool { k, _ := starts(dir); return k > n }); err != nil {
				return nil, err
			}
			lat[f.name] = append(lat[f.name], ms(time.Since(t0)))
		}
		time.Sleep(time.Until(turn.Add(restartGap)))
	}
	return lat, nil
}

// up measures from running the up command (svc -u, sv up, s6-svc -u) to
// the service running; the families take turns.
func up(fams []*family, work string, samples int) (lat latencies, err error) {
	var withUp []*family
	for _, f := range fams {
		if f.up != nil && f.supervisor != "" {
			withUp = append(withUp, f)
		}
	}
	dirs, pids, err := supervised(withUp, work, "up", true)
	defer func() { err = stopEach(pids, err) }()
	if err != nil {
		return nil, err
	}
	lat = latencies{}
	for range samples {
		turn := time.Now()
		for _, f := range withUp {
			dir := dirs[f.name]
			n, _ := starts(dir)
			t0 := time.Now()
			if out, err := exec.Command(f.up(dir)[0], f.up(dir)[1:]...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("%s: %v: %v: %s", f.name, f.up(dir), err, out)
			}
			if err := waitFor(f.name+": up", 10*time.Second, func() bool { k, _ := starts(dir); return k > n }); err != nil {
				return nil, err
			}
			lat[f.name] = append(lat[f.name], ms(time.Since(t0)))
			_, pid := starts(dir)
			if out, err := exec.Command(f.down(dir)[0], f.down(dir)[1:]...).CombinedOutput(); err != nil {
				return nil, fmt.Errorf("%s: %v: %v: %s", f.name, f.down(dir), err, out)
			}
			if err := waitFor(f.name+": down", 10*time.Second, func() bool { return !alive(pid) }); err != nil {
				return nil, err
			}
		}
		time.Sleep(time.Until(turn.Add(restartGap)))
	}
	return lat, nil
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
				if out, err := exec.Command(f.rescan(scan)[0], f.rescan(scan)[1:]...).CombinedOutput(); err != nil {
					return nil, fmt.Errorf("%s: %v: %v: %s", f.name, f.rescan(scan), err, out)
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
