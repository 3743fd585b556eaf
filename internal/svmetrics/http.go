package svmetrics

import (
	"net/http"
	"strconv"
	"strings"

	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// Handler serves the services of the scan directory dir: every request
// reads their records afresh, at the time now gives.
//
//	/metrics  Prometheus' text exposition format
//	/healthz  200 "ok" while every normally-up service is up and ready
//	          (or a one-shot task done); else 503 and a line
//	          "NAME: why" for each that is not
//	/status   svstat -j's object of each service, as one JSON array
func Handler(dir string, now func() tai64.Label) http.Handler {
	h := &handler{dir: dir, now: now}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", h.get(contentMetrics, h.metrics))
	mux.HandleFunc("/healthz", h.get(contentText, h.healthz))
	mux.HandleFunc("/status", h.get(contentJSON, h.status))
	mux.HandleFunc("/{$}", h.get(contentText, func([]service) ([]byte, int) {
		return []byte("svmetrics of " + dir + ": /metrics /healthz /status\n"), http.StatusOK
	}))
	return mux
}

const (
	contentMetrics = "text/plain; version=0.0.4; charset=utf-8"
	contentText    = "text/plain; charset=utf-8"
	contentJSON    = "application/json"
)

type handler struct {
	dir string
	now func() tai64.Label
}

// get answers GET and HEAD with what page writes of the services as they
// are now, and its status code; a scan directory that cannot be read is a
// 500.
func (h *handler) get(contentType string, page func(services []service) ([]byte, int)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		services, err := look(h.dir)
		if err != nil {
			http.Error(w, "unable to read "+h.dir+": "+strerr.Reason(err), http.StatusInternalServerError)
			return
		}
		body, code := page(services)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(code)
		w.Write(body)
	}
}

func (h *handler) metrics(services []service) ([]byte, int) {
	return appendMetrics(nil, services, h.now()), http.StatusOK
}

// healthz is 200 while every normally-up service is up, ready and healthy,
// or a one-shot task done.
func (h *handler) healthz(services []service) ([]byte, int) {
	var b []byte
	for _, sv := range services {
		if why := failing(sv); why != "" {
			b = append(b, strings.ToValidUTF8(sv.name, "\uFFFD")+": "+why+"\n"...)
		}
	}
	if len(b) > 0 {
		return b, http.StatusServiceUnavailable
	}
	return append(b, "ok\n"...), http.StatusOK
}

// failing says why a normally-up service fails /healthz, or "" when it
// does not. A one-shot task done did what it is for; a service waiting
// for those it needs has not started yet.
func failing(sv service) string {
	r := sv.report
	switch {
	case !r.NormallyUp:
		return ""
	case r.Problem != "":
		return r.Problem
	case r.Status.StateName() == "done":
		return ""
	case r.Status.StateName() == "waiting":
		return "waiting for " + strings.ToValidUTF8(strings.Join(r.Status.WaitingFor(), ", "), "\uFFFD")
	case !r.Up():
		return "down"
	case !r.Ready():
		return "not ready"
	case r.Healthy():
	case r.Status.Health == status.HealthUnknown:
		return "health unknown"
	default:
		return "unhealthy (probe: " + strings.ToValidUTF8(r.Status.Probe, "\uFFFD") + ")"
	}
	return ""
}

func (h *handler) status(services []service) ([]byte, int) {
	now := h.now()
	b := []byte{'['}
	for i, sv := range services {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = sv.report.AppendJSON(b, sv.name, now)
	}
	return append(b, "\n]\n"...), http.StatusOK
}
