package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// A fleet is a scanner running n services, all of them started.
type fleet struct {
	scanner     int
	supervisors []int
}

// launch starts f's launcher on a scan directory of n services (created on
// first use) and waits until every service has started.
func launch(f *family, work string, n int) (*fleet, error) {
	dir := filepath.Join(work, fmt.Sprintf("%s-%d", f.name, n))
	for i := range n {
		svc := filepath.Join(dir, fmt.Sprintf("s%03d", i))
		if err := makeService(svc, false); err != nil {
			return nil, err
		}
		os.Remove(filepath.Join(svc, "starts"))
	}
	pid, err := start(f.scan(dir), f.path, filepath.Join(work, f.name+".log"))
	if err != nil {
		return nil, err
	}
	err = waitFor(fmt.Sprintf("%s: %d services running", f.name, n), 120*time.Second, func() bool {
		for i := range n {
			if k, _ := starts(filepath.Join(dir, fmt.Sprintf("s%03d", i))); k == 0 {
				return false
			}
		}
		return true
	})
	if err != nil {
		stop(pid)
		return nil, err
	}
	kids := children(pid)
	if len(kids) != n {
		stop(pid)
		return nil, fmt.Errorf("%s: %d supervisors for %d services", f.name, len(kids), n)
	}
	if f.oneProcess {
		kids = nil // the services themselves
	}
	return &fleet{scanner: pid, supervisors: kids}, nil
}

// launchable returns the families whose supervisors can be started.
func launchable(fams []*family) []*family {
	var out []*family
	for _, f := range fams {
		if f.launcher != "" {
			out = append(out, f)
		}
	}
	return out
}

// memory measures the PSS in KiB of the scanner, on average of one
// supervisor, and of the whole supervision tree (scanner and supervisors,
// services left out), with n services; each family runs alone so that
// shared libraries are split only among its own processes. Medians of
// rounds.
func memory(fams []*family, work string, n, rounds int, settle time.Duration) (scanner, supervisor, tree map[string]float64, err error) {
	scans, sups, trees := map[string][]float64{}, map[string][]float64{}, map[string][]float64{}
	for range rounds {
		for _, f := range launchable(fams) {
			fl, err := launch(f, work, n)
			if err != nil {
				return nil, nil, nil, err
			}
			time.Sleep(settle)
			s, err := pss(fl.scanner)
			total := 0
			for _, p := range fl.supervisors {
				k, perr := pss(p)
				if perr != nil && err == nil {
					err = perr
				}
				total += k
			}
			if err != nil {
				stop(fl.scanner)
				return nil, nil, nil, err
			}
			scans[f.name] = append(scans[f.name], float64(s))
			trees[f.name] = append(trees[f.name], float64(s+total))
			if !f.oneProcess {
				sups[f.name] = append(sups[f.name], float64(total)/float64(n))
			}
			if err := stop(fl.scanner); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	return medians(scans), medians(sups), medians(trees), nil
}

// idle counts the wake-ups per minute of each scanner, on average of one
// supervisor, and of the whole supervision tree (scanner and supervisors),
// all families running n services at once over one window.
func idle(fams []*family, work string, n int, window time.Duration) (scanner, supervisor, tree map[string]float64, err error) {
	fleets := map[string]*fleet{}
	defer func() {
		for _, fl := range fleets {
			if serr := stop(fl.scanner); serr != nil && err == nil {
				err = serr
			}
		}
	}()
	for _, f := range launchable(fams) {
		fl, err := launch(f, work, n)
		if err != nil {
			return nil, nil, nil, err
		}
		fleets[f.name] = fl
	}
	time.Sleep(2 * time.Second) // start-up work done
	before := map[int]int{}
	for _, fl := range fleets {
		for _, p := range append([]int{fl.scanner}, fl.supervisors...) {
			before[p] = wakeups(p)
		}
	}
	t0 := time.Now()
	time.Sleep(window)
	perMinute := time.Minute.Seconds() / time.Since(t0).Seconds()
	scanner, supervisor, tree = map[string]float64{}, map[string]float64{}, map[string]float64{}
	for name, fl := range fleets {
		scan := wakeups(fl.scanner) - before[fl.scanner]
		total := 0
		for _, p := range fl.supervisors {
			total += wakeups(p) - before[p]
		}
		scanner[name] = float64(scan) * perMinute
		tree[name] = float64(scan+total) * perMinute
		if len(fl.supervisors) > 0 {
			supervisor[name] = float64(total) / float64(len(fl.supervisors)) * perMinute
		}
	}
	return scanner, supervisor, tree, nil
}

func medians(m map[string][]float64) map[string]float64 {
	out := map[string]float64{}
	for k, xs := range m {
		out[k] = median(xs)
	}
	return out
}
