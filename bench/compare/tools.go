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

// A client is a command people run in loops, timed as a whole process.
type client struct {
	figure string
	argv   func(svc, svstat, svok, dir string) []string
}

var clientFigures = []client{
	{"svstat DIR", func(_, svstat, _, dir string) []string { return []string{svstat, dir} }},
	{"svc -u on a service that is up", func(svc, _, _, dir string) []string { return []string{svc, "-u", dir} }},
	{"svok DIR", func(_, _, svok, dir string) []string { return []string{svok, dir} }},
}

// clients times our svstat, svc and svok beside daemontools' as whole
// processes (start-up, the work, exit) on one service that Debian's
// supervise keeps up, so that only the clients differ. Ours and theirs take
// turns; the figures are medians of rounds runs, in milliseconds, by
// figure and family. A client of ours not built yet is left out.
func clients(ours, work string, rounds int) (result map[string]map[string]float64, err error) {
	dir := filepath.Join(work, "clients")
	if err := makeService(dir, false); err != nil {
		return nil, err
	}
	pid, err := start([]string{"/usr/bin/supervise", dir}, "/usr/bin:/bin", filepath.Join(work, "clients.log"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := stop(pid); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := waitFor("the clients' service up", 10*time.Second, func() bool { n, _ := starts(dir); return n > 0 }); err != nil {
		return nil, err
	}
	progs := map[string][3]string{"daemontools": {"/usr/bin/svc", "/usr/bin/svstat", "/usr/bin/svok"}}
	mine := [3]string{filepath.Join(ours, "svc"), filepath.Join(ours, "svstat"), filepath.Join(ours, "svok")}
	progs["ours"] = mine
	result = map[string]map[string]float64{}
	for _, c := range clientFigures {
		times := map[string][]float64{}
		for range rounds {
			for _, name := range []string{"ours", "daemontools"} {
				p := progs[name]
				argv := c.argv(p[0], p[1], p[2], dir)
				if _, err := os.Stat(argv[0]); err != nil {
					continue
				}
				cmd := exec.Command(argv[0], argv[1:]...)
				t0 := time.Now()
				if err := cmd.Run(); err != nil {
					return nil, fmt.Errorf("%s: %v: %v", name, argv, err)
				}
				times[name] = append(times[name], ms(time.Since(t0)))
			}
		}
		result[c.figure] = medians(times)
	}
	return result, nil
}
