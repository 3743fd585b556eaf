package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// status times the status tools over n supervised services: our svstat
// and Debian's on the same daemontools directories, runit's sv status on
// runsv's. Taking turns; median milliseconds.
func status(fams []*family, svstatOurs, work string, n, rounds int) (result map[string]float64, err error) {
	type tool struct {
		name string
		argv []string
	}
	var tools []tool
	fleets := map[string]*fleet{}
	defer func() {
		for _, fl := range fleets {
			if serr := stop(fl.scanner); serr != nil && err == nil {
				err = serr
			}
		}
	}()
	dirs := func(f *family) []string {
		var ds []string
		for i := range n {
			ds = append(ds, filepath.Join(work, fmt.Sprintf("%s-%d", f.name, n), fmt.Sprintf("s%03d", i)))
		}
		return ds
	}
	for _, f := range fams {
		var prog []string
		switch f.name {
		case "daemontools":
			if svstatOurs != "" {
				tools = append(tools, tool{"ours", append([]string{svstatOurs}, dirs(f)...)})
			}
			prog = []string{"/usr/bin/svstat"}
		case "runit":
			prog = []string{"/usr/bin/sv", "status"}
		default: // s6-svstat reads one directory only
			continue
		}
		fl, err := launch(f, work, n)
		if err != nil {
			return nil, err
		}
		fleets[f.name] = fl
		tools = append(tools, tool{f.name, append(prog, dirs(f)...)})
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	times := map[string][]float64{}
	for range rounds {
		for _, t := range tools {
			cmd := exec.Command(t.argv[0], t.argv[1:]...)
			cmd.Stdout = null
			t0 := time.Now()
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s: %s: %v", t.name, t.argv[0], err)
			}
			times[t.name] = append(times[t.name], ms(time.Since(t0)))
		}
	}
	return medians(times), nil
}
