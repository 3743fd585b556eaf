package report

import (
	"strconv"

	"daemontools/internal/jsonstring"
	"daemontools/internal/status"
	"daemontools/internal/tai64"
)

// jsonStatus is svstat -j's object; null stands for what is unknown. The
// tags say how encode names the fields.
type jsonStatus struct {
	Service          string   `json:"service"`
	Supervised       bool     `json:"supervised"`
	Up               bool     `json:"up"`
	Pid              int      `json:"pid"`
	Seconds          *uint64  `json:"seconds"`
	NormallyUp       bool     `json:"normally_up"`
	Paused           bool     `json:"paused"`
	Want             string   `json:"want"`
	State            *string  `json:"state"`
	Ready            *bool    `json:"ready"`
	ReadySeconds     *uint64  `json:"ready_seconds"`
	Restarts         *uint32  `json:"restarts"`
	ExitCode         *int     `json:"exit_code"`
	ExitSignal       *int     `json:"exit_signal"`
	ExitWatchdog     *bool    `json:"exit_watchdog"`
	StatusText       *string  `json:"status_text"`
	NextStartSeconds *uint64  `json:"next_start_seconds"`
	PidFromPidfile   *bool    `json:"pid_from_pidfile"`
	PidFromMainpid   *bool    `json:"pid_from_mainpid"`
	StartError       *string  `json:"start_error"`
	Health           *string  `json:"health"`
	HealthFailures   *uint16  `json:"health_failures"`
	HealthProbe      *string  `json:"health_probe"`
	ExitUnhealthy    *bool    `json:"exit_unhealthy"`
	ExitProbe        *string  `json:"exit_probe"`
	WaitingFor       []string `json:"waiting_for"`
	Error            string   `json:"error,omitempty"`
}

// AppendJSON appends svstat -j's object for r to b, naming the service
// service, with times counted to now.
func (r Report) AppendJSON(b []byte, service string, now tai64.Label) []byte {
	j := jsonStatus{Service: service, Supervised: r.Supervised, NormallyUp: r.NormallyUp, Error: r.Problem}
	if r.Problem == "" {
		s := r.Status
		j.Up, j.Pid, j.Paused = s.Pid != 0, s.Pid, s.Pid != 0 && s.Paused
		j.Seconds = ptr(SecondsSince(s.Since, now))
		j.Want = WantName(s.Want)
		j.State = ptr(s.StateName())
		if r.ExtErr != nil {
			j.Error = r.ExtErr.Error()
		} else {
			j.Restarts = ptr(s.Restarts)
			j.PidFromPidfile = ptr(s.FromPidfile)
			j.PidFromMainpid = ptr(s.FromMainpid)
			if s.Readiness {
				j.Ready = ptr(s.Ready != (tai64.Label{}))
				if *j.Ready {
					j.ReadySeconds = ptr(SecondsSince(s.Ready, now))
				}
			}
			if s.Exited && !s.LastExit.Unknown {
				j.ExitCode, j.ExitSignal = ptr(s.LastExit.Code), ptr(s.LastExit.Signal)
			}
			if s.Exited {
				j.ExitWatchdog = ptr(s.LastExit.Watchdog)
				j.ExitUnhealthy = ptr(s.LastExit.Unhealthy)
				if s.LastExit.Unhealthy {
					j.ExitProbe = ptr(s.LastExit.Probe)
				}
			}
			if s.Health != status.HealthNone {
				j.Health, j.HealthFailures = ptr(s.Health.Name()), ptr(s.Failures)
				if s.Probe != "" {
					j.HealthProbe = ptr(s.Probe)
				}
			}
			if s.Text != "" {
				j.StatusText = ptr(s.Text)
			}
			if s.NextStart != (tai64.Label{}) {
				j.NextStartSeconds = ptr(SecondsUntil(s.NextStart, now))
			}
			if s.StartError != "" {
				j.StartError = ptr(s.StartError)
			}
			j.WaitingFor = s.WaitingFor()
		}
	}
	return append(b, j.encode()...)
}

// WantName is how svstat -j names what a service is wanted to do: "up",
// "down", or "" for neither (svc -o).
func WantName(want byte) string {
	switch want {
	case status.WantUp:
		return "up"
	case status.WantDown:
		return "down"
	}
	return ""
}

// encode is j as encoding/json's Marshal writes it, byte for byte (a test
// holds the two equal), written by hand: that package's start-up, in the
// one executable, cost every program about 15 page faults.
func (j *jsonStatus) encode() []byte {
	b := []byte{'{'}
	b = jsonstring.AppendQuoted(field(b, "service"), j.Service)
	b = strconv.AppendBool(field(b, "supervised"), j.Supervised)
	b = strconv.AppendBool(field(b, "up"), j.Up)
	b = appendInt(field(b, "pid"), j.Pid)
	b = orNull(field(b, "seconds"), j.Seconds, appendUint)
	b = strconv.AppendBool(field(b, "normally_up"), j.NormallyUp)
	b = strconv.AppendBool(field(b, "paused"), j.Paused)
	b = jsonstring.AppendQuoted(field(b, "want"), j.Want)
	b = orNull(field(b, "state"), j.State, jsonstring.AppendQuoted)
	b = orNull(field(b, "ready"), j.Ready, strconv.AppendBool)
	b = orNull(field(b, "ready_seconds"), j.ReadySeconds, appendUint)
	b = orNull(field(b, "restarts"), j.Restarts, appendUint)
	b = orNull(field(b, "exit_code"), j.ExitCode, appendInt)
	b = orNull(field(b, "exit_signal"), j.ExitSignal, appendInt)
	b = orNull(field(b, "exit_watchdog"), j.ExitWatchdog, strconv.AppendBool)
	b = orNull(field(b, "status_text"), j.StatusText, jsonstring.AppendQuoted)
	b = orNull(field(b, "next_start_seconds"), j.NextStartSeconds, appendUint)
	b = orNull(field(b, "pid_from_pidfile"), j.PidFromPidfile, strconv.AppendBool)
	b = orNull(field(b, "pid_from_mainpid"), j.PidFromMainpid, strconv.AppendBool)
	b = orNull(field(b, "start_error"), j.StartError, jsonstring.AppendQuoted)
	b = orNull(field(b, "health"), j.Health, jsonstring.AppendQuoted)
	b = orNull(field(b, "health_failures"), j.HealthFailures, appendUint)
	b = orNull(field(b, "health_probe"), j.HealthProbe, jsonstring.AppendQuoted)
	b = orNull(field(b, "exit_unhealthy"), j.ExitUnhealthy, strconv.AppendBool)
	b = orNull(field(b, "exit_probe"), j.ExitProbe, jsonstring.AppendQuoted)
	b = appendStrings(field(b, "waiting_for"), j.WaitingFor)
	if j.Error != "" {
		b = jsonstring.AppendQuoted(field(b, "error"), j.Error)
	}
	return append(b, '}')
}

// field starts the member name of the object being written into b.
func field(b []byte, name string) []byte {
	if len(b) > 1 {
		b = append(b, ',')
	}
	return append(append(append(b, '"'), name...), '"', ':')
}

// orNull appends *v as put writes it, or null.
func orNull[T any](b []byte, v *T, put func([]byte, T) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	return put(b, *v)
}

func appendInt(b []byte, v int) []byte { return strconv.AppendInt(b, int64(v), 10) }

func appendUint[T uint16 | uint32 | uint64](b []byte, v T) []byte {
	return strconv.AppendUint(b, uint64(v), 10)
}

// appendStrings appends ss as a JSON array of strings, null for none.
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonstring.AppendQuoted(b, s)
	}
	return append(b, ']')
}

func ptr[T any](v T) *T { return &v }
