package supervise

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/health"
	"daemontools/internal/status"
	"daemontools/internal/strerr"
)

// world is the tests' effects: it records what the engine asks for, in
// order, and answers as told. No process starts, no file is touched.
type world struct {
	settings  map[string]string
	looked    map[string]int // how many times each setting was read
	calls     []string
	written   []status.Status // decoded with internal/status
	pids      int             // the latest pid given to a start
	runErr    error           // startRun's answer
	writeErr  error           // write's answer
	unmarks   []int           // at each unmark, how many records were written
	runit     []string        // at each writeRunit, the files written: "pid stat", "stat"...
	how       startReadiness  // how the starts of ./run can say they are ready
	daemonPid int             // the daemon the pidfile names; 0 for none yet
	left      []int           // pids findLeftovers finds
	gone      map[int]bool    // processes that have exited
	exits     map[int]exit    // children that have exited, not yet reaped
	trust     map[int]bool    // pids trusted names a process of ./run
	unmetNow  []string        // the needed services not yet ready
	deaf      bool            // unmet's changes are not heard (no inotify)
}

func newWorld(settings ...string) *world {
	w := &world{settings: map[string]string{}, looked: map[string]int{}, pids: 1000, gone: map[int]bool{}, exits: map[int]exit{}, trust: map[int]bool{150: true}}
	for _, kv := range settings {
		k, v, _ := strings.Cut(kv, "=")
		w.settings[k] = v
	}
	return w
}

func (w *world) call(format string, args ...any) {
	w.calls = append(w.calls, fmt.Sprintf(format, args...))
}

func (w *world) setting(name string) (string, bool) {
	w.looked[name]++
	v, ok := w.settings[name]
	return v, ok
}

// startRun marks the start under way, as the real one does, and says so.
func (w *world) startRun() (child, startReadiness, error) {
	w.call("mark, start run")
	if w.runErr != nil {
		return noChild, w.how, w.runErr
	}
	w.pids++
	return child{pid: w.pids, pidfd: -1}, w.how, nil
}

func (w *world) startFinish(e exit) (child, error) {
	if _, ok := w.settings[finishFile]; !ok {
		return noChild, errNoFinish
	}
	w.call("start finish %d %d", e.code, e.signal)
	w.pids++
	return child{pid: w.pids, pidfd: -1, finish: true}, nil
}

func (w *world) signal(c *child, sig syscall.Signal) {
	w.call("signal %d %s", c.pid, unix.SignalName(sig))
}

func (w *world) ended(c *child) bool { return w.gone[c.pid] }

func (w *world) reap(c *child) (exit, bool) {
	e, ok := w.exits[c.pid]
	if ok {
		w.call("reap %d", c.pid)
		delete(w.exits, c.pid)
	}
	return e, ok
}

func (w *world) write(r status.Status) error {
	if w.writeErr != nil {
		return w.writeErr
	}
	d, err := status.DecodeAll(r.Append(nil))
	if err != nil {
		return err
	}
	w.written = append(w.written, d)
	return nil
}

func (w *world) unmark() error {
	w.call("unmark")
	w.unmarks = append(w.unmarks, len(w.written))
	return nil
}

func (w *world) post() {}

func (w *world) writeRunit(_ status.Status, pid, stat bool) error {
	var files []string
	if pid {
		files = append(files, "pid")
	}
	if stat {
		files = append(files, "stat")
	}
	w.runit = append(w.runit, strings.Join(files, " "))
	return nil
}

func (w *world) findLeftovers(known []child) []child {
	w.call("find leftovers")
	for _, pid := range w.left {
		if !isLeftover(known, pid) && !w.gone[pid] {
			known = append(known, child{pid: pid, pidfd: -1, adopted: true})
		}
	}
	return known
}

func (w *world) daemon() (child, error) {
	w.call("read pidfile")
	if w.daemonPid == 0 {
		return noChild, errNoDaemon("svc/pid holds no pid: \"\"")
	}
	return child{pid: w.daemonPid, pidfd: -1, adopted: true, named: byPidfile}, nil
}

func (w *world) trusted(pid int, named string) (child, error) {
	w.call("trust %d", pid)
	if !w.trust[pid] {
		return noChild, errNoDaemon(named + "is not a descendant of svc/run")
	}
	return child{pid: pid, pidfd: -1, adopted: true}, nil
}

func (w *world) unmet() ([]string, bool) {
	if len(w.unmetNow) > 0 {
		w.call("look at needs")
	}
	return w.unmetNow, !w.deaf
}

func (w *world) unwatchNeeds() {}

// t0 is the tests' now.
var t0 = time.Unix(1_700_000_000, 0)

// inState is a supervisor in st, as a typical service gets there: it
// started ./run 10 s ago (pid 100), is wanted up, has timeout-kill 5000
// and no other file, except where st needs one.
func inState(st state, w *world) (*Supervisor, *bytes.Buffer) {
	stderr := &bytes.Buffer{}
	s := &Supervisor{opt: Options{Dir: "svc", Stderr: stderr}, dir: -1, lock: -1, markFile: -1, fx: w, state: st,
		want: status.WantUp, child: noChild, pause: restartGap, ready: newReadiness(),
		warnings: strerr.Limiter{Every: time.Second}, probe: health.New()}
	s.lastStart = t0.Add(-10 * time.Second)
	s.starts, s.since = 1, label(s.lastStart)
	w.settings[timeoutKillFile] = "5000"
	run := child{pid: 100, pidfd: -1}
	switch st {
	case stopped:
		s.want = status.WantDown
	case backoff:
		s.lastStart = t0.Add(-500 * time.Millisecond)
		s.alarm = t0.Add(500 * time.Millisecond)
	case failed:
		s.want = status.WantDown
		s.exited, s.lastExit = true, exit{1, 0}
	case starting, running:
		// A notify-socket service with a watchdog; running has said
		// READY=1 and the watchdog counts.
		s.child = run
		s.ready.has, s.ready.sockets, s.ready.watchdog = true, true, 2*time.Second
		if st == running {
			s.ready.since = label(t0.Add(-9 * time.Second))
			s.alarm = t0.Add(time.Second)
		}
	case awaitingDaemon:
		w.settings[pidfileFile] = "pid"
		s.await = awaiting{path: "pid", until: t0.Add(3 * time.Second)}
		s.alarm = t0.Add(pidfileLook)
	case stopping:
		s.child, s.want, s.stopSent = run, status.WantDown, true
		s.alarm = t0.Add(5 * time.Second)
	case draining:
		w.settings[pidfileFile] = "pid"
		s.want = status.WantDown
		s.leftovers = []child{{pid: 200, pidfd: -1, adopted: true}}
		s.stopExit = exit{256, 15}
		s.alarm = t0.Add(time.Second)
	case finishing:
		w.settings[finishFile] = ""
		s.child = child{pid: 300, pidfd: -1, finish: true}
		s.exited, s.lastExit = true, exit{1, 0}
		s.nextStart = t0.Add(500 * time.Millisecond)
		s.alarm = t0.Add(5 * time.Second)
	case waiting:
		// Its needs/ names db, which is not ready.
		s.waitingFor, w.unmetNow = []string{"db"}, []string{"db"}
	case done:
		// A one-shot task whose ./run exited 0.
		w.settings[oneshotFile] = ""
		s.want, s.exited, s.lastExit = status.WantNone, true, exit{}
	}
	return s, stderr
}

// standard is the input of each event in the table test.
func standard(ev event) input {
	in := input{ev: ev}
	switch ev {
	case evSignal:
		in.sig = unix.SIGHUP
	case evTerminate:
		in.sig = unix.SIGTERM
	case evRunExited:
		in.exit = exit{1, 0}
	case evMainPid:
		in.pid, in.who = 150, "pid 150"
	case evStatusText:
		in.text = "hi"
	case evUnhealthy:
		in.text = "connection refused"
	}
	return in
}

// summary is a record in a few words: state, pid, wanted state, and what
// else it says.
func summary(r status.Status) string {
	want := map[byte]string{status.WantUp: "u", status.WantDown: "d", status.WantNone: "o"}[r.Want]
	words := []string{r.StateName(), "pid=" + strconv.Itoa(r.Pid), "want=" + want}
	add := func(yes bool, word string) {
		if yes {
			words = append(words, word)
		}
	}
	add(r.Paused, "paused")
	add(r.StopSent, "stopsent")
	add(r.Ready.Sec != 0, "ready")
	add(r.Exited, fmt.Sprintf("exit=%d/%d", r.LastExit.Code, r.LastExit.Signal))
	add(r.LastExit.Unknown, "unknown")
	add(r.LastExit.Watchdog, "watchdog")
	add(r.LastExit.Unhealthy, "unhealthy="+r.LastExit.Probe)
	add(r.NextStart.Sec != 0, "next="+after(r.NextStart.Time()))
	add(r.Text != "", "text="+r.Text)
	add(r.FromMainpid, "mainpid")
	add(r.FromPidfile, "pidfile")
	add(r.Restarts != 0, "restarts="+strconv.Itoa(int(r.Restarts)))
	add(r.FinishPid != 0, "finishpid="+strconv.Itoa(r.FinishPid))
	add(r.StartError != "", "error="+r.StartError)
	add(r.Waiting != "", "waiting="+strings.Join(r.WaitingFor(), ","))
	return strings.Join(words, " ")
}

// after is t as an offset from t0.
func after(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	if d := t.Sub(t0); d < 0 {
		return d.String()
	}
	return "+" + t.Sub(t0).String()
}

// outcome is what one event did: the state after it and its alarm, the
// effects asked for, and the records written.
type outcome struct {
	state   string // state and alarm: "stopping +5s"
	calls   string // "; " between them
	written string // summaries, " | " between them; "" for none
}

func outcomeOf(s *Supervisor, w *world) outcome {
	var written []string
	for _, r := range w.written {
		written = append(written, summary(r))
	}
	return outcome{s.state.String() + " " + after(s.alarm), strings.Join(w.calls, "; "), strings.Join(written, " | ")}
}

// run dispatches in to a supervisor in st; an alarm's event comes when
// the alarm is due.
func run(st state, w *world, in input) (*Supervisor, outcome, string) {
	s, stderr := inState(st, w)
	now := t0
	if in.ev == evTimer && !s.alarm.IsZero() {
		now = s.alarm
	}
	s.dispatch(now, in)
	return s, outcomeOf(s, w), stderr.String()
}

// cell is the expected outcome of an event in a state; a pair missing
// from cells must change nothing.
type cell struct {
	st      state
	ev      event
	want    outcome
	warning string
}

var cells = []cell{
	{stopped, evBegin, outcome{"stopped none", "", ""}, ""}, // wanted down
	{stopped, evUp, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u restarts=1"}, ""},
	{stopped, evOnce, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=o restarts=1"}, ""},
	{stopped, evDown, outcome{"stopped none", "", "stopped pid=0 want=d"}, ""},
	{stopped, evPause, outcome{"stopped none", "", "stopped pid=0 want=d"}, ""}, // paused is 0 while down
	{stopped, evContinue, outcome{"stopped none", "", "stopped pid=0 want=d"}, ""},
	{stopped, evExit, outcome{"stopped none", "", "stopped pid=0 want=d"}, ""},

	{backoff, evUp, outcome{"backoff +500ms", "", "stopped pid=0 want=u next=+500ms"}, ""},
	{backoff, evOnce, outcome{"backoff +500ms", "", "stopped pid=0 want=o next=+500ms"}, ""},
	{backoff, evDown, outcome{"stopped none", "", "stopped pid=0 want=d"}, ""},
	{backoff, evPause, outcome{"backoff +500ms", "", "stopped pid=0 want=u next=+500ms"}, ""},
	{backoff, evContinue, outcome{"backoff +500ms", "", "stopped pid=0 want=u next=+500ms"}, ""},
	{backoff, evExit, outcome{"backoff +500ms", "", "stopped pid=0 want=u next=+500ms"}, ""},
	{backoff, evTimer, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u restarts=1"}, ""},

	{failed, evUp, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u exit=1/0 restarts=1"}, ""},
	{failed, evOnce, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=o exit=1/0 restarts=1"}, ""},
	{failed, evDown, outcome{"failed none", "", "failed pid=0 want=d exit=1/0"}, ""},
	{failed, evPause, outcome{"failed none", "", "failed pid=0 want=d exit=1/0"}, ""},
	{failed, evContinue, outcome{"failed none", "", "failed pid=0 want=d exit=1/0"}, ""},
	{failed, evExit, outcome{"failed none", "", "failed pid=0 want=d exit=1/0"}, ""},

	{starting, evUp, outcome{"starting none", "", "starting pid=100 want=u"}, ""},
	{starting, evOnce, outcome{"starting none", "", "starting pid=100 want=o"}, ""},
	{starting, evDown, outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=d stopsent"}, ""},
	{starting, evPause, outcome{"starting none", "signal 100 SIGSTOP", "starting pid=100 want=u paused"}, ""},
	{starting, evContinue, outcome{"starting none", "signal 100 SIGCONT", "starting pid=100 want=u"}, ""},
	{starting, evExit, outcome{"starting none", "", "starting pid=100 want=u"}, ""},
	{starting, evSignal, outcome{"starting none", "signal 100 SIGHUP", ""}, ""},
	{starting, evTerminate, outcome{"starting none", "signal 100 SIGTERM", ""}, ""},
	{starting, evRunExited, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u exit=1/0 restarts=1"}, ""},
	{starting, evTimer, outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=u stopsent"},
		"supervise: warning: svc/run said no WATCHDOG=1 for 2000 ms: stopping it\n"},
	{starting, evReady, outcome{"running +2s", "", "running pid=100 want=u ready"}, ""},
	{starting, evStatusText, outcome{"starting none", "", "starting pid=100 want=u text=hi"}, ""},
	{starting, evWatchdogPing, outcome{"starting +2s", "", ""}, ""},
	{starting, evWatchdogTrigger, outcome{"starting +0s", "", ""}, ""},
	{starting, evMainPid, outcome{"starting none", "trust 150", "starting pid=150 want=u mainpid"}, ""},
	{starting, evProbed, outcome{"starting none", "", "starting pid=100 want=u"}, ""},
	{starting, evUnhealthy, outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=u stopsent"},
		"supervise: warning: svc: unhealthy (probe: connection refused): stopping it\n"},

	{running, evUp, outcome{"running +1s", "", "running pid=100 want=u ready"}, ""},
	{running, evOnce, outcome{"running +1s", "", "running pid=100 want=o ready"}, ""},
	{running, evDown, outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=d stopsent ready"}, ""},
	{running, evPause, outcome{"running none", "signal 100 SIGSTOP", "running pid=100 want=u paused ready"}, ""},
	{running, evContinue, outcome{"running +2s", "signal 100 SIGCONT", "running pid=100 want=u ready"}, ""},
	{running, evExit, outcome{"running +1s", "", "running pid=100 want=u ready"}, ""},
	{running, evSignal, outcome{"running +1s", "signal 100 SIGHUP", ""}, ""},
	{running, evTerminate, outcome{"running +1s", "signal 100 SIGTERM", ""}, ""},
	{running, evRunExited, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u exit=1/0 restarts=1"}, ""},
	{running, evTimer, outcome{"stopping +6s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=u stopsent ready"},
		"supervise: warning: svc/run said no WATCHDOG=1 for 2000 ms: stopping it\n"},
	{running, evNotReady, outcome{"starting +1s", "", "starting pid=100 want=u"}, ""},
	{running, evStatusText, outcome{"running +1s", "", "running pid=100 want=u ready text=hi"}, ""},
	{running, evWatchdogPing, outcome{"running +2s", "", ""}, ""},
	{running, evWatchdogTrigger, outcome{"running +0s", "", ""}, ""},
	{running, evMainPid, outcome{"running +1s", "trust 150", "running pid=150 want=u ready mainpid"}, ""},
	{running, evProbed, outcome{"running +1s", "", "running pid=100 want=u ready"}, ""},
	{running, evUnhealthy, outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=u stopsent ready"},
		"supervise: warning: svc: unhealthy (probe: connection refused): stopping it\n"},

	{awaitingDaemon, evUp, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u"}, ""},
	{awaitingDaemon, evOnce, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=o"}, ""},
	{awaitingDaemon, evDown, outcome{"stopped none", "find leftovers", "stopped pid=0 want=d exit=0/0"}, ""},
	{awaitingDaemon, evPause, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u"}, ""},
	{awaitingDaemon, evContinue, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u"}, ""},
	{awaitingDaemon, evExit, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u"}, ""},
	{awaitingDaemon, evTimer, outcome{"awaitingDaemon +40ms", "read pidfile", "starting pid=0 want=u"}, ""},
	{awaitingDaemon, evReady, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u ready"}, ""},
	{awaitingDaemon, evNotReady, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u"}, ""},
	{awaitingDaemon, evStatusText, outcome{"awaitingDaemon +20ms", "", "starting pid=0 want=u text=hi"}, ""},
	{awaitingDaemon, evMainPid, outcome{"running none", "trust 150", "running pid=150 want=u mainpid"}, ""},

	{stopping, evUp, outcome{"stopping +5s", "", "stopping pid=100 want=u stopsent"}, ""},
	{stopping, evOnce, outcome{"stopping +5s", "", "stopping pid=100 want=o stopsent"}, ""},
	{stopping, evDown, outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=d stopsent"}, ""},
	{stopping, evPause, outcome{"stopping +5s", "signal 100 SIGSTOP", "stopping pid=100 want=d paused stopsent"}, ""},
	{stopping, evContinue, outcome{"stopping +5s", "signal 100 SIGCONT", "stopping pid=100 want=d stopsent"}, ""},
	{stopping, evExit, outcome{"stopping +5s", "", "stopping pid=100 want=d stopsent"}, ""},
	{stopping, evSignal, outcome{"stopping +5s", "signal 100 SIGHUP", ""}, ""},
	{stopping, evTerminate, outcome{"stopping +5s", "signal 100 SIGTERM", ""}, ""},
	{stopping, evRunExited, outcome{"stopped none", "", "stopped pid=0 want=d exit=1/0"}, ""},
	{stopping, evTimer, outcome{"stopping none", "signal 100 SIGKILL", ""}, ""},
	{stopping, evReady, outcome{"stopping +5s", "", "stopping pid=100 want=d stopsent ready"}, ""},
	{stopping, evNotReady, outcome{"stopping +5s", "", "stopping pid=100 want=d stopsent"}, ""},
	{stopping, evStatusText, outcome{"stopping +5s", "", "stopping pid=100 want=d stopsent text=hi"}, ""},

	{draining, evUp, outcome{"draining +1s", "", "stopping pid=0 want=u"}, ""},
	{draining, evOnce, outcome{"draining +1s", "", "stopping pid=0 want=o"}, ""},
	{draining, evDown, outcome{"draining +1s", "find leftovers; signal 200 SIGTERM; signal 200 SIGCONT", "stopping pid=0 want=d"}, ""},
	{draining, evPause, outcome{"draining +1s", "", "stopping pid=0 want=d"}, ""},
	{draining, evContinue, outcome{"draining +1s", "", "stopping pid=0 want=d"}, ""},
	{draining, evExit, outcome{"draining +1s", "", "stopping pid=0 want=d"}, ""},
	{draining, evTimer, outcome{"draining none", "find leftovers; signal 200 SIGKILL", ""}, ""},
	{draining, evReady, outcome{"draining +1s", "", "stopping pid=0 want=d ready"}, ""},
	{draining, evNotReady, outcome{"draining +1s", "", "stopping pid=0 want=d"}, ""},
	{draining, evStatusText, outcome{"draining +1s", "", "stopping pid=0 want=d text=hi"}, ""},
	{draining, evLeftoversGone, outcome{"stopped none", "", "stopped pid=0 want=d exit=256/15"}, ""},

	{finishing, evUp, outcome{"finishing +5s", "", "finishing pid=0 want=u exit=1/0 next=+500ms finishpid=300"}, ""},
	{finishing, evOnce, outcome{"finishing +5s", "", "finishing pid=0 want=o exit=1/0 next=+500ms finishpid=300"}, ""},
	{finishing, evDown, outcome{"finishing +5s", "", "finishing pid=0 want=d exit=1/0 finishpid=300"}, ""},
	{finishing, evPause, outcome{"finishing +5s", "", "finishing pid=0 want=u exit=1/0 next=+500ms finishpid=300"}, ""},
	{finishing, evContinue, outcome{"finishing +5s", "", "finishing pid=0 want=u exit=1/0 next=+500ms finishpid=300"}, ""},
	{finishing, evExit, outcome{"finishing +5s", "", "finishing pid=0 want=u exit=1/0 next=+500ms finishpid=300"}, ""},
	{finishing, evFinishExited, outcome{"backoff +500ms", "", "stopped pid=0 want=u exit=1/0 next=+500ms"}, ""},
	{finishing, evTimer, outcome{"finishing none", "signal 300 SIGKILL", ""},
		"supervise: warning: svc/finish still running after its timeout-finish: killed\n"},

	{waiting, evUp, outcome{"waiting none", "", "waiting pid=0 want=u waiting=db"}, ""},
	{waiting, evOnce, outcome{"waiting none", "", "waiting pid=0 want=o waiting=db"}, ""},
	{waiting, evDown, outcome{"stopped none", "", "stopped pid=0 want=d"}, ""},
	{waiting, evPause, outcome{"waiting none", "", "waiting pid=0 want=u waiting=db"}, ""},
	{waiting, evContinue, outcome{"waiting none", "", "waiting pid=0 want=u waiting=db"}, ""},
	{waiting, evExit, outcome{"waiting none", "", "waiting pid=0 want=u waiting=db"}, ""},
	{waiting, evTimer, outcome{"waiting +5s", "look at needs", ""}, ""}, // db still not ready: nothing to write
	{waiting, evNeedsChanged, outcome{"waiting +5s", "look at needs", ""}, ""},

	{done, evUp, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u exit=0/0 restarts=1"}, ""},
	{done, evOnce, outcome{"running none", "mark, start run; unmark", "running pid=1001 want=o exit=0/0 restarts=1"}, ""},
	{done, evDown, outcome{"done none", "", "done pid=0 want=d exit=0/0"}, ""},
	{done, evPause, outcome{"done none", "", "done pid=0 want=o exit=0/0"}, ""},
	{done, evContinue, outcome{"done none", "", "done pid=0 want=o exit=0/0"}, ""},
	{done, evExit, outcome{"done none", "", "done pid=0 want=o exit=0/0"}, ""},
}

// TestEveryPair dispatches every event in every state, and checks the
// state and alarm after it, the effects asked for, the records written
// and the warnings. A pair not in cells must change nothing.
func TestEveryPair(t *testing.T) {
	want := map[[2]int]cell{}
	for _, c := range cells {
		k := [2]int{int(c.st), int(c.ev)}
		if _, dup := want[k]; dup {
			t.Errorf("(%v, %v) twice in cells", c.st, c.ev)
		}
		want[k] = c
	}
	for st := range numStates {
		for ev := range numEvents {
			if table[st][ev] == nil {
				t.Errorf("(%v, %v): no handler", st, ev)
				continue
			}
			c, ok := want[[2]int{int(st), int(ev)}]
			if !ok {
				before, _ := inState(st, newWorld())
				c = cell{st, ev, outcome{st.String() + " " + after(before.alarm), "", ""}, ""}
			}
			s, got, warning := run(st, newWorld(), standard(ev))
			if got != c.want || warning != c.warning {
				t.Errorf("(%v, %v):\n got %+v %q\nwant %+v %q", st, ev, got, warning, c.want, c.warning)
			}
			// The alarm means something in every state that has one.
			switch {
			case (s.state == stopped || s.state == failed) && !s.alarm.IsZero():
				t.Errorf("(%v, %v): %v with an alarm", st, ev, s.state)
			case s.state == backoff && s.alarm.IsZero():
				t.Errorf("(%v, %v): backoff without an alarm", st, ev)
			}
		}
	}
}

// scenario is a sequence of events from a state, with the world set up
// for it, and the outcome of the last.
type scenario struct {
	name  string
	from  state
	setup func(s *Supervisor, w *world)
	ins   []input
	want  outcome
	warn  string
}

func TestScenarios(t *testing.T) {
	exited := func(code, sig int) input { return input{ev: evRunExited, exit: exit{code, sig}} }
	for _, sc := range []scenario{
		{name: "an exit runs ./finish with its code and signal; timeout-finish is the alarm", from: running,
			setup: func(s *Supervisor, w *world) { w.settings[finishFile], w.settings[timeoutFinishFile] = "", "300" },
			ins:   []input{exited(256, 9)},
			want:  outcome{"finishing +300ms", "start finish 256 9", "finishing pid=0 want=u exit=256/9 next=-9s finishpid=1001"}},
		{name: "./finish exiting 125: failed, wanted down", from: finishing,
			ins:  []input{{ev: evFinishExited, exit: exit{125, 0}}},
			want: outcome{"failed none", "", "failed pid=0 want=d exit=1/0"}},
		{name: "svc -x while ./finish runs: done once it exits", from: finishing,
			ins:  []input{{ev: evExit}, {ev: evFinishExited}},
			want: outcome{"stopped none", "", "finishing pid=0 want=u exit=1/0 next=+500ms finishpid=300 | stopped pid=0 want=u exit=1/0"}},
		{name: "a crash within the pause doubles it, up to backoff-max", from: running,
			setup: func(s *Supervisor, w *world) {
				w.settings[backoffMaxFile] = "3000"
				s.lastStart, s.pause = t0.Add(-1500*time.Millisecond), 2*time.Second
			},
			ins:  []input{exited(1, 0)},
			want: outcome{"backoff +500ms", "", "stopped pid=0 want=u exit=1/0 next=+500ms"}},
		{name: "./run cannot start: tried again a second later", from: stopped,
			setup: func(s *Supervisor, w *world) { w.runErr = unix.EACCES },
			ins:   []input{{ev: evUp}},
			want:  outcome{"backoff +1s", "mark, start run; unmark", "stopped pid=0 want=u next=+1s error=unable to start run: access denied"},
			warn:  "supervise: fatal: unable to start svc/run: access denied\n"},
		{name: "./run cannot start under svc -o: stays down", from: stopped,
			setup: func(s *Supervisor, w *world) { w.runErr = unix.EACCES },
			ins:   []input{{ev: evOnce}},
			want:  outcome{"stopped none", "mark, start run; unmark", "stopped pid=0 want=o error=unable to start run: access denied"},
			warn:  "supervise: fatal: unable to start svc/run: access denied\n"},
		{name: "a start with readiness is starting until it says so", from: stopped,
			setup: func(s *Supervisor, w *world) { w.how = startReadiness{has: true} },
			ins:   []input{{ev: evUp}, {ev: evReady}},
			want:  outcome{"running none", "mark, start run; unmark", "starting pid=1001 want=u restarts=1 | running pid=1001 want=u ready restarts=1"}},
		{name: "begin starts a service wanted up", from: stopped,
			setup: func(s *Supervisor, w *world) { s.want, s.starts, s.lastStart = status.WantUp, 0, time.Time{} },
			ins:   []input{{ev: evBegin}},
			want:  outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u"}},
		{name: "exit 0 with a pidfile: the daemon is looked for", from: running,
			setup: func(s *Supervisor, w *world) { w.settings[pidfileFile] = "pid" },
			ins:   []input{exited(0, 0)},
			want:  outcome{"awaitingDaemon +20ms", "read pidfile", "starting pid=0 want=u ready"}},
		{name: "no daemon for an adopted ./run: its exit stays unknown", from: awaitingDaemon,
			setup: func(s *Supervisor, w *world) { s.await.until, s.await.exit = t0, exitUnknown },
			ins:   []input{{ev: evTimer}},
			want:  outcome{"running none", "read pidfile; find leftovers; mark, start run; unmark", "running pid=1001 want=u exit=0/0 unknown restarts=1"},
			warn:  "supervise: warning: no daemon 5 seconds after svc/run ended: svc/pid holds no pid: \"\"\n"},
		{name: "an adopted ./run's exit, of unknown status: its daemon is looked for", from: running,
			setup: func(s *Supervisor, w *world) { w.settings[pidfileFile], s.child.adopted = "pid", true },
			ins:   []input{{ev: evRunExited, exit: exitUnknown}},
			want:  outcome{"awaitingDaemon +20ms", "read pidfile", "starting pid=0 want=u ready"}},
		{name: "the pidfile names the daemon: up with it", from: awaitingDaemon,
			setup: func(s *Supervisor, w *world) { w.daemonPid = 400 },
			ins:   []input{{ev: evTimer}},
			want:  outcome{"running none", "read pidfile", "running pid=400 want=u pidfile"}},
		{name: "no daemon in time: the service exited 0 and starts again", from: awaitingDaemon,
			setup: func(s *Supervisor, w *world) { s.await.until = t0 },
			ins:   []input{{ev: evTimer}},
			want:  outcome{"running none", "read pidfile; find leftovers; mark, start run; unmark", "running pid=1001 want=u exit=0/0 restarts=1"},
			warn:  "supervise: warning: no daemon 5 seconds after svc/run exited 0: svc/pid holds no pid: \"\"\n"},
		{name: "a daemon's exit with processes left: they are stopped first", from: running,
			setup: func(s *Supervisor, w *world) {
				w.settings[pidfileFile] = "pid"
				s.child.adopted, s.child.named = true, byPidfile
				w.left = []int{200, 201}
			},
			ins:  []input{exited(0, 0)},
			want: outcome{"draining +5s", "find leftovers; signal 200 SIGTERM; signal 201 SIGTERM; signal 200 SIGCONT; signal 201 SIGCONT", "stopping pid=0 want=u ready"},
			warn: "supervise: warning: stopping what svc/run left running before it starts again: pid 200 201\n"},
		{name: "svc -d of a daemon: its process and its leftovers; down once all are gone", from: running,
			setup: func(s *Supervisor, w *world) {
				w.settings[pidfileFile] = "pid"
				s.child.adopted, s.child.named = true, byPidfile
				s.ready = newReadiness()
				s.alarm = time.Time{}
				w.left = []int{200}
			},
			ins: []input{{ev: evDown}, exited(256, 15), {ev: evLeftoversGone}},
			want: outcome{"stopped none", "find leftovers; signal 100 SIGTERM; signal 100 SIGCONT; signal 200 SIGTERM; signal 200 SIGCONT",
				"stopping pid=100 want=d stopsent pidfile | stopped pid=0 want=d exit=256/15"}},
		{name: "a MAINPID= naming a stranger is ignored", from: running,
			ins:  []input{{ev: evMainPid, pid: 666, who: "pid 100"}},
			want: outcome{"running +1s", "trust 666", ""},
			warn: "supervise: warning: svc/notify-socket: MAINPID from pid 100 names pid 666, which is not a descendant of svc/run: ignored\n"},
		{name: "while paused, WATCHDOG=1 does not count", from: running,
			ins:  []input{{ev: evPause}, {ev: evWatchdogPing}, {ev: evWatchdogTrigger}},
			want: outcome{"running none", "signal 100 SIGSTOP", "running pid=100 want=u paused ready"}},
		{name: "the watchdog's stop is recorded in the exit", from: running,
			ins:  []input{{ev: evTimer}, exited(256, 15)},
			want: outcome{"running none", "signal 100 SIGTERM; signal 100 SIGCONT; mark, start run; unmark", "stopping pid=100 want=u stopsent ready | running pid=1001 want=u exit=256/15 watchdog restarts=1"},
			warn: "supervise: warning: svc/run said no WATCHDOG=1 for 2000 ms: stopping it\n"},
		{name: "a start waits for what needs/ names", from: stopped,
			setup: func(s *Supervisor, w *world) { w.unmetNow = []string{"cache", "db"} },
			ins:   []input{{ev: evUp}},
			want:  outcome{"waiting +5s", "look at needs", "waiting pid=0 want=u waiting=cache,db"}},
		{name: "a restart waits again", from: running,
			setup: func(s *Supervisor, w *world) { w.unmetNow = []string{"db"} },
			ins:   []input{exited(1, 0)},
			want:  outcome{"waiting +5s", "look at needs", "waiting pid=0 want=u exit=1/0 waiting=db"}},
		{name: "the restart gap first, then the wait", from: running,
			setup: func(s *Supervisor, w *world) {
				s.lastStart = t0.Add(-500 * time.Millisecond)
				w.unmetNow = []string{"db"}
			},
			ins:  []input{exited(1, 0), {ev: evTimer}},
			want: outcome{"waiting +5.5s", "look at needs", "stopped pid=0 want=u exit=1/0 next=+500ms | waiting pid=0 want=u exit=1/0 waiting=db"}},
		{name: "what is waited for changes: recorded", from: waiting,
			setup: func(s *Supervisor, w *world) { w.unmetNow = []string{"cache"} },
			ins:   []input{{ev: evNeedsChanged}},
			want:  outcome{"waiting +5s", "look at needs", "waiting pid=0 want=u waiting=cache"}},
		{name: "the last needed service ready: ./run starts", from: waiting,
			setup: func(s *Supervisor, w *world) { w.unmetNow = nil },
			ins:   []input{{ev: evNeedsChanged}},
			want:  outcome{"running none", "mark, start run; unmark", "running pid=1001 want=u restarts=1"}},
		{name: "svc -o waits too", from: stopped,
			setup: func(s *Supervisor, w *world) { w.unmetNow = []string{"db"} },
			ins:   []input{{ev: evOnce}},
			want:  outcome{"waiting +5s", "look at needs", "waiting pid=0 want=o waiting=db"}},
		{name: "svc -d, then -u: waits again", from: waiting,
			ins:  []input{{ev: evDown}, {ev: evUp}},
			want: outcome{"waiting +5s", "look at needs", "stopped pid=0 want=d | waiting pid=0 want=u waiting=db"}},
		{name: "a one-shot task's exit 0: done, wanted neither up nor down", from: running,
			setup: func(s *Supervisor, w *world) { w.settings[oneshotFile] = "" },
			ins:   []input{exited(0, 0)},
			want:  outcome{"done none", "", "done pid=0 want=o exit=0/0"}},
		{name: "a one-shot task's exit 0 after ./finish: done", from: running,
			setup: func(s *Supervisor, w *world) { w.settings[oneshotFile], w.settings[finishFile] = "", "" },
			ins:   []input{exited(0, 0), {ev: evFinishExited}},
			want:  outcome{"done none", "start finish 0 0", "finishing pid=0 want=u exit=0/0 next=-9s finishpid=1001 | done pid=0 want=o exit=0/0"}},
		{name: "a one-shot task's failure: started again, with the backoff", from: running,
			setup: func(s *Supervisor, w *world) {
				w.settings[oneshotFile], w.settings[backoffMaxFile] = "", "4000"
				s.lastStart = t0.Add(-500 * time.Millisecond)
			},
			ins:  []input{exited(1, 0), {ev: evTimer}, exited(1, 0)},
			want: outcome{"backoff +2.5s", "mark, start run; unmark", "stopped pid=0 want=u exit=1/0 next=+500ms | running pid=1001 want=u exit=1/0 restarts=1 | stopped pid=0 want=u exit=1/0 next=+2.5s restarts=1"}},
		{name: "a one-shot task stopped by svc -d: down, not done", from: running,
			setup: func(s *Supervisor, w *world) { w.settings[oneshotFile] = "" },
			ins:   []input{{ev: evDown}, exited(256, 15)},
			want:  outcome{"stopped none", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=d stopsent ready | stopped pid=0 want=d exit=256/15"}},
		{name: "without inotify: a look each second", from: stopped,
			setup: func(s *Supervisor, w *world) { w.unmetNow, w.deaf = []string{"db"}, true },
			ins:   []input{{ev: evUp}, {ev: evTimer}},
			want:  outcome{"waiting +2s", "look at needs; look at needs", "waiting pid=0 want=u waiting=db"}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			w := newWorld()
			s, stderr := inState(sc.from, w)
			if sc.setup != nil {
				sc.setup(s, w)
			}
			now := t0
			for _, in := range sc.ins {
				if in.ev == evTimer && !s.alarm.IsZero() {
					now = s.alarm
				}
				s.dispatch(now, in)
			}
			if got := outcomeOf(s, w); got != sc.want || stderr.String() != sc.warn {
				t.Errorf("\n got %+v %q\nwant %+v %q", got, stderr.String(), sc.want, sc.warn)
			}
		})
	}
}

// TestDone: svc -x ends the supervisor only once the service is down,
// ./finish included, and a start asked for with it has run; the bytes
// after the one that makes it done are not obeyed, as daemontools reads
// one at a time.
func TestDone(t *testing.T) {
	for _, c := range []struct {
		name     string
		from     state
		setup    func(s *Supervisor, w *world)
		commands string
		then     []input // events after the commands, each but the last leaving it not done
		calls    string
	}{
		{name: "-x while up: done once stopped", from: running, commands: "xp", then: []input{{ev: evDown}, {ev: evRunExited}},
			calls: "signal 100 SIGSTOP; signal 100 SIGTERM; signal 100 SIGCONT"},
		{name: "-xu while down: done at the x", from: stopped, commands: "xu"},
		{name: "-xo while down: done at the x", from: stopped, commands: "xo"},
		{name: "-dxu while down: done at the x", from: stopped, commands: "dxu"},
		{name: "-ux in the restart gap: runs once", from: backoff, setup: func(s *Supervisor, w *world) { s.want = status.WantDown },
			commands: "ux", then: []input{{ev: evTimer}, {ev: evRunExited}}, calls: "mark, start run; unmark"},
		{name: "-ox while down: runs once", from: stopped, commands: "ox", then: []input{{ev: evRunExited}},
			calls: "mark, start run; unmark"},
		{name: "-dx with ./finish: done once it exits", from: running, setup: func(s *Supervisor, w *world) { w.settings[finishFile] = "" },
			commands: "dx", then: []input{{ev: evRunExited, exit: exit{256, 15}}, {ev: evFinishExited}},
			calls: "signal 100 SIGTERM; signal 100 SIGCONT; start finish 256 15"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld()
			s, _ := inState(c.from, w)
			if c.setup != nil {
				c.setup(s, w)
			}
			s.Obey(t0, []byte(c.commands))
			for _, in := range c.then {
				if s.Done() {
					t.Fatalf("done in %v before %v", s.state, in.ev)
				}
				now := t0
				if in.ev == evTimer {
					now = s.alarm
				}
				s.dispatch(now, in)
			}
			if !s.Done() {
				t.Errorf("not done in %v", s.state)
			}
			if got := strings.Join(w.calls, "; "); got != c.calls {
				t.Errorf("calls %q, want %q", got, c.calls)
			}
		})
	}
}

// TestObeyWritesOnce: the commands of one read make one record, so that a
// supervisor killed between the d and the u of svc -du leaves the record
// it had (want up), not one saying "want down" that the next would keep.
func TestObeyWritesOnce(t *testing.T) {
	w := newWorld()
	s, _ := inState(running, w)
	s.Obey(t0, []byte("du"))
	want := outcome{"stopping +5s", "signal 100 SIGTERM; signal 100 SIGCONT", "stopping pid=100 want=u stopsent ready"}
	if got := outcomeOf(s, w); got != want {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

// TestBackoffDoubles: with backoff-max 4000, a crash loop's pauses are 1,
// 2, 4 and 4 seconds, each in the record; a run that lives longer than its
// pause, or svc -u, starts from one second again, and svc -u starts at
// once when the last start was more than a second ago.
func TestBackoffDoubles(t *testing.T) {
	w := newWorld(backoffMaxFile + "=4000")
	s, _ := inState(stopped, w)
	s.want, s.lastStart = status.WantUp, time.Time{}
	now := t0
	s.dispatch(now, input{ev: evBegin})
	var pauses []string
	for range 5 {
		s.dispatch(now, input{ev: evRunExited, exit: exit{1, 0}})
		r := w.written[len(w.written)-1]
		pauses = append(pauses, r.NextStart.Time().Sub(s.lastStart).String())
		now = s.alarm
		s.dispatch(now, input{ev: evTimer})
	}
	if got := strings.Join(pauses, " "); got != "1s 2s 4s 4s 4s" {
		t.Errorf("pauses %s", got)
	}
	// Crashing again; svc -u 3 s into the pause of 4.
	s.dispatch(now, input{ev: evRunExited, exit: exit{1, 0}})
	s.dispatch(now.Add(3*time.Second), input{ev: evUp})
	if s.state != running || s.pause != restartGap || !s.lastStart.Equal(now.Add(3*time.Second)) {
		t.Errorf("after -u: %v, pause %v, started at %v", s.state, s.pause, after(s.lastStart))
	}
	// A run that outlives its pause: the next pause is a second.
	now = now.Add(10 * time.Second)
	s.dispatch(now, input{ev: evRunExited, exit: exit{1, 0}})
	if r := w.written[len(w.written)-1]; s.state != running || s.pause != restartGap || r.Pid == 0 {
		t.Errorf("after a long run: %v, pause %v, %s", s.state, s.pause, summary(r))
	}
}

// A crash's restart does not look for the oneshot file, which only an
// exit 0 makes matter; an exit 0 does.
func TestOneshotLookedForAfterExit0(t *testing.T) {
	w := newWorld()
	s, _ := inState(running, w)
	s.dispatch(t0, input{ev: evRunExited, exit: exit{1, 0}})
	if s.state != running || w.looked[oneshotFile] != 0 {
		t.Errorf("after a crash: %v, oneshot looked for %d times", s.state, w.looked[oneshotFile])
	}
	s.dispatch(t0.Add(5*time.Second), input{ev: evRunExited, exit: exit{0, 0}})
	if w.looked[oneshotFile] != 1 {
		t.Errorf("after an exit 0: oneshot looked for %d times", w.looked[oneshotFile])
	}
}

// TestCommandEvents: every byte that means something, and none else.
func TestCommandEvents(t *testing.T) {
	var got []string
	for c := range 256 {
		if in, ok := commandEvent(byte(c)); ok {
			word := string(rune(c)) + "=" + in.ev.String()
			if in.sig != 0 {
				word += ":" + unix.SignalName(in.sig)
			}
			got = append(got, word)
		}
	}
	want := "1=signal:SIGUSR1 2=signal:SIGUSR2 a=signal:SIGALRM c=continue d=down h=signal:SIGHUP i=signal:SIGINT k=signal:SIGKILL " +
		"o=once p=pause q=signal:SIGQUIT t=terminate:SIGTERM u=up w=signal:SIGWINCH x=exit"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}
}

// TestWriteFailureWarns: a record that cannot be written is a warning in
// daemontools' words, and the engine goes on.
func TestWriteFailureWarns(t *testing.T) {
	s, stderr := inState(stopped, newWorld())
	s.fx = failingWriter{s.fx}
	s.dispatch(t0, input{ev: evExit})
	if want := "supervise: warning: unable to rename svc/supervise/status.new to status: read-only file system\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	if !s.exiting {
		t.Error("svc -x lost")
	}
}

type failingWriter struct{ effects }

func (failingWriter) write(status.Status) error {
	return &status.WriteError{Op: "rename", File: "supervise/status.new", Err: unix.EROFS}
}
