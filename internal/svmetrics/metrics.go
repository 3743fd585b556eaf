package svmetrics

import (
	"strconv"
	"strings"

	"daemontools/internal/report"
	"daemontools/internal/status"
	"daemontools/internal/tai64"
)

// family is one metric of the exposition: a sample for each service that
// has a value for it. A family that is a set of states (want, state) has
// a second label, set to each of values in turn, one sample each, 1 for
// the service's own and 0 for the others, so that every series lives as
// long as its service.
type family struct {
	name, kind, help string
	label            string   // the second label, or ""
	values           []string // its values
	// sample is the family's value for r (for value of the second label),
	// and false when r has none.
	sample func(r report.Report, value string, now tai64.Label) (uint64, bool)
}

// families is everything /metrics says of each service.
var families = []family{
	{name: "daemontools_service_supervised", kind: "gauge",
		help:   "1 while a supervisor (supervise, or svscan -1) runs for the service.",
		sample: always(func(r report.Report) bool { return r.Supervised })},
	{name: "daemontools_service_normally_up", kind: "gauge",
		help:   "1 when the service directory has no file down.",
		sample: always(func(r report.Report) bool { return r.NormallyUp })},
	{name: "daemontools_service_up", kind: "gauge",
		help:   "1 while ./run, or the daemon it started, runs.",
		sample: always(report.Report.Up)},
	{name: "daemontools_service_ready", kind: "gauge",
		help:   "1 while the service is up and has said it is ready (up is enough without notification-fd or notify-socket).",
		sample: always(report.Report.Ready)},
	{name: "daemontools_service_healthy", kind: "gauge",
		help:   "1 while the service is up and its latest health probe passed (up is enough without a probe).",
		sample: always(report.Report.Healthy)},
	{name: "daemontools_service_health_failures", kind: "gauge",
		help: "Health probes failed in a row since the latest start, past the grace; none without a probe.",
		sample: extended(func(s status.Status) (uint64, bool) {
			return uint64(s.Failures), s.Health != status.HealthNone
		})},
	{name: "daemontools_service_paused", kind: "gauge",
		help: "1 while the service is stopped by svc -p.",
		sample: recorded(func(r report.Report, _ tai64.Label) (uint64, bool) {
			return bit(r.Up() && r.Status.Paused), true
		})},
	{name: "daemontools_service_seconds", kind: "gauge",
		help: "Seconds since the service last went up or down, as svstat counts them.",
		sample: recorded(func(r report.Report, now tai64.Label) (uint64, bool) {
			return report.SecondsSince(r.Status.Since, now), true
		})},
	{name: "daemontools_service_want", kind: "gauge",
		help:  "What the service is wanted to do: up, down, or none (after svc -o).",
		label: "want", values: []string{"up", "down", "none"},
		sample: func(r report.Report, value string, _ tai64.Label) (uint64, bool) {
			want := report.WantName(r.Status.Want)
			if want == "" {
				want = "none"
			}
			return bit(want == value), r.Problem == ""
		}},
	{name: "daemontools_service_state", kind: "gauge",
		help:  "The service's state, as svstat -j names it.",
		label: "state", values: stateNames(),
		sample: func(r report.Report, value string, _ tai64.Label) (uint64, bool) {
			return bit(r.Status.StateName() == value), r.Problem == ""
		}},
	{name: "daemontools_service_restarts_total", kind: "counter",
		help: "Starts of ./run since the supervisor began, less one.",
		sample: extended(func(s status.Status) (uint64, bool) {
			return uint64(s.Restarts), true
		})},
	{name: "daemontools_service_last_exit_code", kind: "gauge",
		help: "Exit code of ./run's last exit (256 when a signal killed it); none before the first.",
		sample: extended(func(s status.Status) (uint64, bool) {
			return uint64(s.LastExit.Code), s.Exited && !s.LastExit.Unknown
		})},
	{name: "daemontools_service_last_exit_signal", kind: "gauge",
		help: "The signal that killed ./run at its last exit, else 0; none before the first exit.",
		sample: extended(func(s status.Status) (uint64, bool) {
			return uint64(s.LastExit.Signal), s.Exited && !s.LastExit.Unknown
		})},
}

// always is a family every service has, whose value is f's.
func always(f func(report.Report) bool) func(report.Report, string, tai64.Label) (uint64, bool) {
	return func(r report.Report, _ string, _ tai64.Label) (uint64, bool) { return bit(f(r)), true }
}

// recorded is a family of the services whose record could be read.
func recorded(f func(report.Report, tai64.Label) (uint64, bool)) func(report.Report, string, tai64.Label) (uint64, bool) {
	return func(r report.Report, _ string, now tai64.Label) (uint64, bool) {
		if r.Problem != "" {
			return 0, false
		}
		return f(r, now)
	}
}

// extended is a family of the services whose record has our fields, not
// only daemontools' (or runit's).
func extended(f func(status.Status) (uint64, bool)) func(report.Report, string, tai64.Label) (uint64, bool) {
	return func(r report.Report, _ string, _ tai64.Label) (uint64, bool) {
		if r.Problem != "" || r.ExtErr != nil {
			return 0, false
		}
		return f(r.Status)
	}
}

func bit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// stateNames lists every name StateName gives, asking it rather than
// knowing them.
func stateNames() []string {
	var names []string
	for st := status.State(0); ; st++ {
		name := status.Status{State: st}.StateName()
		if name == "unknown" {
			break
		}
		names = append(names, name)
	}
	return append(names, status.Status{Finishing: true}.StateName(),
		status.Status{Waiting: status.WaitingString([]string{"db"})}.StateName(),
		status.Status{Done: true}.StateName())
}

// appendMetrics appends the exposition of services at time now to b.
func appendMetrics(b []byte, services []service, now tai64.Label) []byte {
	labels := make([]string, len(services))
	for i, sv := range services {
		labels[i] = escape(sv.name)
	}
	for _, f := range families {
		b = append(b, "# HELP "+f.name+" "+f.help+"\n# TYPE "+f.name+" "+f.kind+"\n"...)
		values := f.values
		if f.label == "" {
			values = []string{""}
		}
		for i, sv := range services {
			for _, value := range values {
				v, ok := f.sample(sv.report, value, now)
				if !ok {
					break
				}
				b = append(append(append(b, f.name...), `{service="`...), labels[i]...)
				if f.label != "" {
					b = append(append(append(append(append(b, `",`...), f.label...), `="`...), value...), '"')
				} else {
					b = append(b, '"')
				}
				b = strconv.AppendUint(append(b, "} "...), v, 10)
				b = append(b, '\n')
			}
		}
	}
	return b
}

// escape makes s a label value of the text format: backslash, double
// quote and newline escaped, and invalid UTF-8 (a directory's name may be
// any bytes) replaced by U+FFFD.
func escape(s string) string {
	return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
