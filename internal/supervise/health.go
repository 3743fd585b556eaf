package supervise

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/health"
	"daemontools/internal/tai64"
)

// The health probes' settings of a service directory (doc/extensions.md);
// the probe itself is named by one of health's files.
const (
	healthIntervalFile = "health-interval"
	healthTimeoutFile  = "health-timeout"
	healthGraceFile    = "health-grace"
	healthFailuresFile = "health-failures"
)

// healthKill is how long a stop by the health probes waits for the
// service to exit before KILL, without timeout-kill: a hung service may
// not answer its down signal.
const healthKill = 5 * time.Second

// healthConfig reads the service's probe and its settings, at a start of
// ./run: ./health if it is executable, else health-http, health-tcp or
// health-unix, the first there. A bad file is warned of and ignored.
func (s *Supervisor) healthConfig() health.Config {
	cfg := health.Config{Dir: s.cwd, Env: s.opt.Env}
	if s.has(health.ExecFile) {
		if unix.Faccessat(s.dir, health.ExecFile, unix.X_OK, 0) == nil {
			cfg.Kind = health.Exec
		} else {
			s.warn(s.opt.Dir, "/", health.ExecFile, ": not executable: ignored")
		}
	}
	for _, f := range []struct {
		name  string
		parse func(string) (health.Target, error)
	}{
		{health.HTTPFile, health.ParseHTTP},
		{health.TCPFile, health.ParseTCP},
		{health.UnixFile, func(v string) (health.Target, error) { return health.ParseUnix(v, s.cwd) }},
	} {
		if cfg.Kind != health.None {
			break
		}
		v, ok := s.fx.setting(f.name)
		if !ok {
			continue
		}
		t, err := f.parse(v)
		if err != nil {
			s.warn(s.opt.Dir, "/", f.name, ": ", err.Error(), ": ", strconv.Quote(v), ", ignored")
			continue
		}
		cfg.Kind, cfg.Target = t.Kind, t
	}
	if cfg.Kind == health.None {
		return cfg
	}
	cfg.Interval = s.positiveMillis(healthIntervalFile, health.DefaultInterval)
	cfg.Timeout = s.positiveMillis(healthTimeoutFile, health.DefaultTimeout)
	if s.has(healthGraceFile) || !s.ready.has {
		cfg.Grace = s.millis(healthGraceFile, health.DefaultGrace, "using 10000")
	} else {
		cfg.UntilReady = true
	}
	cfg.Failures = health.DefaultFailures
	if v, ok := s.fx.setting(healthFailuresFile); ok {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || n == 0 || v[0] == '+' {
			s.warn(s.opt.Dir, "/", healthFailuresFile, ": not a count of 1 or more: ", strconv.Quote(v), ", using 3")
		} else {
			cfg.Failures = int(n)
		}
	}
	return cfg
}

// positiveMillis is millis for a setting that 0 would make no sense of.
func (s *Supervisor) positiveMillis(name string, def time.Duration) time.Duration {
	instead := "using " + strconv.FormatInt(def.Milliseconds(), 10)
	d := s.millis(name, def, instead)
	if d == 0 {
		s.warn(s.opt.Dir, "/", name, ": not a number of milliseconds: \"0\", ", instead)
		return def
	}
	return d
}

// startProbes begins probing the service's process from now: at a start
// of ./run, an adoption, and svc -c.
func (s *Supervisor) startProbes(now time.Time) { s.probe.Start(now, s.healthConfig()) }

// probed turns what the probes did into an event.
func (s *Supervisor) probed(now time.Time) {
	switch s.probe.Step(now, s.ready.since != tai64.Label{} || !s.ready.has) {
	case health.Changed:
		s.dispatch(now, input{ev: evProbed})
	case health.Unhealthy:
		s.dispatch(now, input{ev: evUnhealthy, text: s.probe.Line()})
	}
}

// Reaps tells whether pid is a child of the supervisor's, which it reaps
// itself: the process it watches, or ./health.
func (s *Supervisor) Reaps(pid int) bool {
	return pid != 0 && (pid == s.child.pid || pid == s.probe.Pid())
}
