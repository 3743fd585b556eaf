package supervise

// The engine is a state machine. state is what the service is doing, event
// what has just happened to it, and table names, for every pair, the
// function that handles it, or ignore where nothing is to be done: no
// transition happens anywhere else. Step and Obey only turn what they see
// (a control byte, a child's exit, an alarm due, what ./run says) into
// events. Handlers ask everything of the world through effects
// (effects.go), so that the tests run every pair without a process.

import (
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"daemontools/internal/status"
	"daemontools/internal/strerr"
	"daemontools/internal/tai64"
)

// state is what the service is doing. Each state gives the supervisor's
// one alarm its meaning (what is due when it falls due) and is shown in
// the status record as one of its encore-style states (record). The
// record's "started" (encore's ./start script done) has no state here: we
// run no ./start.
//
// A new state gets a line here, a name in stateNames, a row in table and its record in
// record; the tests then ask for its handling of every event.
type state int

const (
	stopped        state = iota // down, nothing due; record: stopped
	backoff                     // down, a start due; alarm: the start (restart gap, backoff-max, a start that failed); record: stopped, with the next start
	failed                      // down for good: ./finish exited 125; record: failed
	starting                    // ./run (or its daemon) runs and has not said it is ready; alarm: the watchdog; record: starting
	running                     // it runs, ready or without readiness; alarm: the watchdog; record: running
	awaitingDaemon              // ./run exited 0, the daemon its pidfile names is looked for (pidfile.go); alarm: look again; record: starting
	stopping                    // its process was sent the down signal; alarm: KILL; record: stopping
	draining                    // its process has exited, the processes it left are being stopped; alarm: KILL them; record: stopping, no pid
	finishing                   // ./finish runs; alarm: KILL it; record: finishing
	waiting                     // down, a start due once the services needs/ names are ready (needs.go); alarm: look again, without inotify; record: stopped, waiting for them
	done                        // a one-shot task (oneshot) whose ./run exited 0: down, not started again unless asked; record: stopped, done
	numStates
)

var stateNames = [numStates]string{"stopped", "backoff", "failed", "starting", "running", "awaitingDaemon", "stopping", "draining", "finishing", "waiting", "done"}

func (st state) String() string { return stateNames[st] }

// up tells whether the service's process runs, not yet told to stop.
func (st state) up() bool { return st == starting || st == running }

// hears tells whether what the notify socket says is heard: while a
// process of the latest start may be running.
func (st state) hears() bool {
	return st.up() || st == awaitingDaemon || st == stopping || st == draining
}

// event is what happened to the service. Control bytes become events
// through commandEvent. A new event gets a line here, a name in eventNames and a
// handler in every row of table.
type event int

const (
	evBegin           event = iota // the supervisor begins (Begin)
	evUp                           // svc -u
	evOnce                         // svc -o
	evDown                         // svc -d
	evPause                        // svc -p
	evContinue                     // svc -c
	evExit                         // svc -x
	evSignal                       // svc -h -a -i -k -q -1 -2 -w: a signal for the process
	evTerminate                    // svc -t: TERM, which counts as a stop signal (runit's byte 18)
	evRunExited                    // the service's process (./run, its daemon) exited
	evFinishExited                 // ./finish exited
	evTimer                        // the alarm fell due; the state says what was due (in starting and running: the watchdog heard nothing)
	evReady                        // the service said it is ready (notification-fd's newline, READY=1)
	evNotReady                     // it said it is no longer (RELOADING=1, STOPPING=1)
	evStatusText                   // STATUS= with new text
	evWatchdogPing                 // WATCHDOG=1
	evWatchdogTrigger              // WATCHDOG=trigger
	evMainPid                      // MAINPID= names another process
	evLeftoversGone                // the processes a stop is waiting for have all exited
	evProbed                       // a health probe passed or failed, changing what the record says of health
	evUnhealthy                    // health-failures probes in a row failed: the probe's line in text
	evNeedsChanged                 // needs/, or a service it names, changed (needs.go)
	numEvents
)

var eventNames = [numEvents]string{"begin", "up", "once", "down", "pause", "continue", "exit", "signal", "terminate",
	"runExited", "finishExited", "timer", "ready", "notReady", "statusText", "watchdogPing", "watchdogTrigger", "mainPid", "leftoversGone", "probed", "unhealthy",
	"needsChanged"}

func (ev event) String() string { return eventNames[ev] }

// input is an event and what it carries.
type input struct {
	ev   event
	sig  syscall.Signal // evSignal
	exit exit           // evRunExited, evFinishExited
	pid  int            // evMainPid
	who  string         // evMainPid: the sender, for messages
	text string         // evStatusText; evUnhealthy: the last probe's line
}

// commandEvent is the event of a control byte; false for a byte that
// means nothing. A switch, not a table, so that no program of the one
// executable builds it at start.
func commandEvent(c byte) (input, bool) {
	switch c {
	case 'u':
		return input{ev: evUp}, true
	case 'o':
		return input{ev: evOnce}, true
	case 'd':
		return input{ev: evDown}, true
	case 'p':
		return input{ev: evPause}, true
	case 'c':
		return input{ev: evContinue}, true
	case 'x':
		return input{ev: evExit}, true
	case 't':
		return input{ev: evTerminate, sig: unix.SIGTERM}, true
	case 'h':
		return input{ev: evSignal, sig: unix.SIGHUP}, true
	case 'a':
		return input{ev: evSignal, sig: unix.SIGALRM}, true
	case 'i':
		return input{ev: evSignal, sig: unix.SIGINT}, true
	case 'k':
		return input{ev: evSignal, sig: unix.SIGKILL}, true
	case 'q':
		return input{ev: evSignal, sig: unix.SIGQUIT}, true
	case '1':
		return input{ev: evSignal, sig: unix.SIGUSR1}, true
	case '2':
		return input{ev: evSignal, sig: unix.SIGUSR2}, true
	case 'w':
		return input{ev: evSignal, sig: unix.SIGWINCH}, true
	}
	return input{}, false
}

// handler handles one event in one state.
type handler func(s *Supervisor, now time.Time, in input)

// table is the engine: the handler of every event in every state.
var table = [numStates][numEvents]handler{
	stopped: {
		evBegin: beginStart, evUp: startOnCommand, evOnce: startOnCommand, evDown: cancelStart,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: ignore,
		evReady: ignore, evNotReady: ignore, evStatusText: ignore, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	backoff: {
		evBegin: ignore, evUp: startOnCommand, evOnce: startOnCommand, evDown: cancelStart,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: startDue,
		evReady: ignore, evNotReady: ignore, evStatusText: ignore, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	failed: {
		evBegin: ignore, evUp: startOnCommand, evOnce: startOnCommand, evDown: wantDown,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: ignore,
		evReady: ignore, evNotReady: ignore, evStatusText: ignore, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	starting: {
		evBegin: ignore, evUp: wantUp, evOnce: wantUp, evDown: stopRun,
		evPause: pauseRun, evContinue: continueRun, evExit: exitWhenDown, evSignal: signalRun, evTerminate: terminate,
		evRunExited: runEnded, evFinishExited: ignore, evTimer: watchdogSilent,
		evReady: becomeReady, evNotReady: ignore, evStatusText: noteText, evWatchdogPing: watchdogPing, evWatchdogTrigger: watchdogTrigger, evMainPid: takeMainPid,
		evLeftoversGone: ignore, evProbed: noteHealth, evUnhealthy: stopUnhealthy, evNeedsChanged: ignore,
	},
	running: {
		evBegin: ignore, evUp: wantUp, evOnce: wantUp, evDown: stopRun,
		evPause: pauseRun, evContinue: continueRun, evExit: exitWhenDown, evSignal: signalRun, evTerminate: terminate,
		evRunExited: runEnded, evFinishExited: ignore, evTimer: watchdogSilent,
		evReady: ignore, evNotReady: becomeNotReady, evStatusText: noteText, evWatchdogPing: watchdogPing, evWatchdogTrigger: watchdogTrigger, evMainPid: takeMainPid,
		evLeftoversGone: ignore, evProbed: noteHealth, evUnhealthy: stopUnhealthy, evNeedsChanged: ignore,
	},
	awaitingDaemon: {
		evBegin: ignore, evUp: wantUp, evOnce: wantUp, evDown: stopAwaiting,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: lookForDaemon,
		evReady: noteReady, evNotReady: noteNotReady, evStatusText: noteText, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: takeMainPid,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	stopping: {
		evBegin: ignore, evUp: wantUp, evOnce: wantUp, evDown: stopAgain,
		evPause: pauseStopping, evContinue: continueStopping, evExit: exitWhenDown, evSignal: signalRun, evTerminate: terminate,
		evRunExited: stopEnded, evFinishExited: ignore, evTimer: killStop,
		evReady: noteReady, evNotReady: noteNotReady, evStatusText: noteText, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	draining: {
		evBegin: ignore, evUp: wantUp, evOnce: wantUp, evDown: stopAgain,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: killStop,
		evReady: noteReady, evNotReady: noteNotReady, evStatusText: noteText, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: drained, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	finishing: {
		evBegin: ignore, evUp: startAfterFinish, evOnce: startAfterFinish, evDown: wantDown,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: finished, evTimer: killFinish,
		evReady: ignore, evNotReady: ignore, evStatusText: ignore, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
	waiting: {
		evBegin: ignore, evUp: wantUp, evOnce: wantUp, evDown: stopWaiting,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: lookAtNeeds,
		evReady: ignore, evNotReady: ignore, evStatusText: ignore, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: lookAtNeeds,
	},
	done: {
		evBegin: ignore, evUp: startOnCommand, evOnce: startOnCommand, evDown: wantDown,
		evPause: notePause, evContinue: noteContinue, evExit: exitWhenDown, evSignal: ignore, evTerminate: ignore,
		evRunExited: ignore, evFinishExited: ignore, evTimer: ignore,
		evReady: ignore, evNotReady: ignore, evStatusText: ignore, evWatchdogPing: ignore, evWatchdogTrigger: ignore, evMainPid: ignore,
		evLeftoversGone: ignore, evProbed: ignore, evUnhealthy: ignore, evNeedsChanged: ignore,
	},
}

// dispatch handles an event and writes the status record if it changed.
func (s *Supervisor) dispatch(now time.Time, in input) {
	s.handle(now, in)
	s.flush()
}

// handle handles an event, leaving the record to write (flush): several
// said at once (a datagram, one Step's reads) make one write.
func (s *Supervisor) handle(now time.Time, in input) { table[s.state][in.ev](s, now, in) }

// ignore is the handler of the pairs where nothing is to be done, or that
// cannot happen (an exit of a process the state has not).
func ignore(*Supervisor, time.Time, input) {}

// changed notes that the status record is to be written.
func (s *Supervisor) changed() { s.dirty = true }

// flush writes the status record if it changed.
func (s *Supervisor) flush() {
	if s.dirty {
		s.dirty = false
		s.announce()
	}
}

// label is now as the status record says it.
func label(now time.Time) tai64.Label { return tai64.FromTime(now) }

// upState is the state of a service whose process runs: starting until it
// says it is ready, when it has a way to.
func (s *Supervisor) upState() state {
	if s.ready.has && s.ready.since == (tai64.Label{}) {
		return starting
	}
	return running
}

// wantFor is what svc -u (WantUp) or -o (WantNone) asks for.
func wantFor(in input) byte {
	if in.ev == evOnce {
		return status.WantNone
	}
	return status.WantUp
}

// beginStart starts a service that is wanted up, at the supervisor's
// beginning.
func beginStart(s *Supervisor, now time.Time, _ input) {
	if s.want == status.WantUp {
		s.startAt(now, time.Time{})
	}
}

// startOnCommand: svc -u or -o on a service that is down starts it, at
// once unless it started less than a second ago; a backoff is forgotten.
func startOnCommand(s *Supervisor, now time.Time, in input) {
	s.want = wantFor(in)
	s.startAsked = true
	s.pause = restartGap
	s.startAt(now, time.Time{})
}

// startAfterFinish: svc -u or -o while ./finish runs starts ./run once it
// is done.
func startAfterFinish(s *Supervisor, _ time.Time, in input) {
	s.want = wantFor(in)
	s.startAsked = true
	s.changed()
}

// wantUp: svc -u or -o while the service runs or stops only says what
// comes after.
func wantUp(s *Supervisor, _ time.Time, in input) {
	s.want = wantFor(in)
	s.changed()
}

// cancelStart: svc -d while down forgets a start due.
func cancelStart(s *Supervisor, _ time.Time, _ input) {
	s.want, s.startAsked = status.WantDown, false
	s.state, s.alarm = stopped, time.Time{}
	s.changed()
}

// stopWaiting: svc -d while waiting for needed services forgets the
// start.
func stopWaiting(s *Supervisor, now time.Time, in input) {
	s.fx.unwatchNeeds()
	s.waitingFor = nil
	cancelStart(s, now, in)
}

// lookAtNeeds: needs/ or a needed service changed (or, without inotify,
// the time to look again came): the service starts if nothing it needs is
// still to be ready.
func lookAtNeeds(s *Supervisor, now time.Time, _ input) { s.startAt(now, time.Time{}) }

// wantDown: svc -d with nothing to stop (./finish runs, failed, done).
func wantDown(s *Supervisor, _ time.Time, _ input) {
	s.want, s.startAsked = status.WantDown, false
	s.changed()
}

// stopRun: svc -d stops the service's process.
func stopRun(s *Supervisor, now time.Time, _ input) {
	s.want, s.startAsked = status.WantDown, false
	s.signalStop()
	s.enterStopping(now)
	s.changed()
}

// stopAwaiting: svc -d while the daemon is looked for stops what ./run
// left, and the service is down once that is gone.
//
// A wait taken over from a supervisor killed meanwhile cannot find what
// ./run left (orphans of another process): it goes on, and the daemon,
// once named, is stopped (lookForDaemon), so that it is never left
// running beside the next ./run's.
func stopAwaiting(s *Supervisor, now time.Time, _ input) {
	s.want, s.startAsked = status.WantDown, false
	s.signalStop()
	if s.await.orphansElsewhere {
		s.changed()
		return
	}
	s.state, s.stopExit, s.alarm, s.stopSince = draining, exit{}, time.Time{}, label(now) // ./run's exit exit
	if t := s.timeoutKill(); t > 0 {
		s.alarm = now.Add(t)
	}
	if !s.pruneLeftovers() {
		s.alarm = time.Time{}
		s.runExited(now, s.stopExit)
	}
	s.changed()
}

// stopAgain: svc -d during a stop sends the down signal again.
func stopAgain(s *Supervisor, _ time.Time, _ input) {
	s.want, s.startAsked = status.WantDown, false
	s.signalStop()
	s.changed()
}

// enterStopping follows the down signal: KILL is due after timeout-kill,
// if the service has one.
func (s *Supervisor) enterStopping(now time.Time) {
	s.state, s.alarm, s.stopSince = stopping, time.Time{}, label(now)
	if t := s.timeoutKill(); t > 0 {
		s.alarm = now.Add(t)
	}
}

// notePause: svc -p with no process to stop (down, or the daemon not yet
// found) or none of the service's (./finish) is only recorded.
func notePause(s *Supervisor, _ time.Time, _ input) {
	s.paused = true
	s.changed()
}

// noteContinue: svc -c, likewise.
func noteContinue(s *Supervisor, _ time.Time, _ input) {
	s.paused = false
	s.changed()
}

// pauseRun: svc -p stops the process with STOP, and the watchdog's count
// (a stopped process cannot say WATCHDOG=1).
func pauseRun(s *Supervisor, _ time.Time, _ input) {
	s.paused = true
	s.changed()
	s.signalChild(unix.SIGSTOP)
	s.alarm = time.Time{}
	s.probe.Stop() // a stopped process answers nothing
}

// continueRun: svc -c sends CONT, and the watchdog counts from zero.
func continueRun(s *Supervisor, now time.Time, _ input) {
	s.paused = false
	s.changed()
	s.signalChild(unix.SIGCONT)
	s.alarm = time.Time{}
	s.armWatchdog(now)
	s.startProbes(now)
}

// pauseStopping: svc -p during a stop; KILL stays due.
func pauseStopping(s *Supervisor, _ time.Time, _ input) {
	s.paused = true
	s.changed()
	s.signalChild(unix.SIGSTOP)
}

// continueStopping: svc -c during a stop.
func continueStopping(s *Supervisor, _ time.Time, _ input) {
	s.paused = false
	s.changed()
	s.signalChild(unix.SIGCONT)
}

// exitWhenDown: svc -x; the supervisor is Done once the service is down.
func exitWhenDown(s *Supervisor, _ time.Time, _ input) {
	s.exiting = true
	s.changed()
}

// signalRun sends the service's process a command's signal.
func signalRun(s *Supervisor, _ time.Time, in input) { s.signalChild(in.sig) }

// terminate: svc -t sends TERM, a stop signal for runit's readers (sv
// restart waits for the exit that clears it).
func terminate(s *Supervisor, _ time.Time, in input) {
	s.signalChild(in.sig)
	s.stopSent = true
}

// runEnded follows an exit of the service's process: with a pidfile,
// ./run's exit 0 starts the wait for its daemon, and what a run left is
// stopped first; then ./finish or the next start.
func runEnded(s *Supervisor, now time.Time, in input) {
	adopted, named := s.child.adopted, s.child.named
	s.child.release()
	switch {
	case !adopted && in.exit == (exit{}) && s.awaitDaemon(now, in.exit):
	// An adopted ./run's exit is unknown: its daemon may come all the
	// same, an orphan of the process that reaped it.
	case adopted && named == byRun && in.exit == exitUnknown && s.awaitDaemon(now, in.exit):
	case s.stopLeftBehind(now, in.exit):
	default:
		s.runExited(now, in.exit)
	}
}

// stopEnded follows the exit of a process told to stop: the service is
// down, unless processes it left are still to exit.
func stopEnded(s *Supervisor, now time.Time, in input) {
	s.child.release()
	if s.pruneLeftovers() {
		// KILL stays due. The record keeps the pid until they are
		// gone: a client waiting for pid 0 waits for them too.
		s.state, s.stopExit = draining, in.exit
		return
	}
	s.alarm = time.Time{}
	s.runExited(now, in.exit)
}

// drained: the last process a stop waited for has exited.
func drained(s *Supervisor, now time.Time, _ input) {
	s.alarm = time.Time{}
	s.runExited(now, s.stopExit)
}

// finished follows an exit of ./finish: 125 means the service failed for
// good and is wanted down.
func finished(s *Supervisor, now time.Time, in input) {
	s.child.release()
	if in.exit.code == 125 {
		s.want = status.WantDown
		s.startAsked = false
		s.state = failed
	}
	s.afterRun(now, s.nextStart)
}

// startDue: the pause before a start is over.
func startDue(s *Supervisor, now time.Time, _ input) { s.startAt(now, time.Time{}) }

// killStop: timeout-kill has passed since the down signal: KILL for the
// process and what it left (those born since the signal too).
func killStop(s *Supervisor, _ time.Time, _ input) {
	s.alarm = time.Time{}
	if len(s.leftovers) > 0 {
		s.leftovers = s.fx.findLeftovers(s.leftovers)
	}
	s.signalChild(unix.SIGKILL)
	s.signalLeftovers(unix.SIGKILL)
}

// killFinish: timeout-finish has passed: KILL for ./finish.
func killFinish(s *Supervisor, _ time.Time, _ input) {
	s.alarm = time.Time{}
	s.warn(s.opt.Dir, "/finish still running after its timeout-finish: killed")
	s.signalChild(unix.SIGKILL)
}

// watchdogSilent stops a service that has not said WATCHDOG=1 in time, as
// svc -t would with its down signal and timeout-kill; it starts again
// once it has exited.
func watchdogSilent(s *Supervisor, now time.Time, _ input) {
	s.alarm = time.Time{}
	s.warn(s.opt.Dir, "/run said no WATCHDOG=1 for ", s.ready.watchdog.Milliseconds(), " ms: stopping it")
	s.ready.watchdogStop = true
	s.signalStop()
	s.enterStopping(now)
	s.changed()
}

// noteHealth: a probe changed what the record says of health.
func noteHealth(s *Supervisor, _ time.Time, _ input) { s.changed() }

// stopUnhealthy stops a service whose probes failed health-failures times
// in a row, as svc -t would with its down signal, and KILL after
// timeout-kill (healthKill without it); it starts again once it has
// exited, and the record says why it was stopped.
func stopUnhealthy(s *Supervisor, now time.Time, in input) {
	s.warn(s.opt.Dir, ": unhealthy (probe: ", in.text, "): stopping it")
	s.healthStop, s.healthStopProbe = true, in.text
	s.signalStop()
	s.enterStopping(now)
	if s.alarm.IsZero() {
		s.alarm = now.Add(healthKill)
	}
	s.changed()
}

// becomeReady: the service said it is ready; the watchdog counts from
// then on.
func becomeReady(s *Supervisor, now time.Time, _ input) {
	s.ready.since = label(now)
	s.state = running
	s.armWatchdog(now)
	s.changed()
}

// becomeNotReady: the service reloads or stops on its own.
func becomeNotReady(s *Supervisor, _ time.Time, _ input) {
	s.ready.since = tai64.Label{}
	s.state = s.upState()
	s.changed()
}

// noteReady: readiness said while no process is up is kept: the daemon
// awaited said it, or the service said it while it stops.
func noteReady(s *Supervisor, now time.Time, _ input) {
	s.ready.since = label(now)
	s.changed()
}

// noteNotReady: likewise, RELOADING=1 or STOPPING=1.
func noteNotReady(s *Supervisor, _ time.Time, _ input) {
	s.ready.since = tai64.Label{}
	s.changed()
}

// noteText keeps the service's STATUS= text.
func noteText(s *Supervisor, now time.Time, in input) {
	s.ready.text = in.text
	s.armWatchdog(now)
	s.changed()
}

// watchdogPing: WATCHDOG=1 restarts the watchdog's count, unless paused.
func watchdogPing(s *Supervisor, now time.Time, _ input) {
	if s.ready.watchdog > 0 && !s.paused {
		s.alarm = now.Add(s.ready.watchdog)
	}
}

// watchdogTrigger: WATCHDOG=trigger makes the watchdog's alarm due now.
func watchdogTrigger(s *Supervisor, now time.Time, _ input) {
	if s.ready.watchdog > 0 && !s.paused {
		s.alarm = now
	}
}

// takeMainPid makes the process a MAINPID= names the service's, under the
// pidfile's rules of trust (pidfile.go): alive, one of ./run's processes,
// and watched through a pidfd from then on. A ./run still running is from
// then on one of the service's other processes: reaped as an orphan, and
// stopped with the leftovers.
func takeMainPid(s *Supervisor, now time.Time, in input) {
	named := s.opt.Dir + "/" + notifySocketFile + ": MAINPID from " + in.who + " names pid " + strconv.Itoa(in.pid) + ", which "
	c, err := s.fx.trusted(in.pid, named)
	if err != nil {
		s.warnings.Warn(s.opt.Stderr, "supervise", now, "mainpid", err, ": ignored")
		return
	}
	c.named = byMainpid
	if s.state == awaitingDaemon {
		s.alarm = time.Time{} // no more looks at the pidfile
		s.startProbes(now)
	}
	s.child.release()
	s.child = c
	s.since = label(now)
	s.state = s.upState()
	s.armWatchdog(now)
	s.changed()
}

// armWatchdog starts the watchdog's count: once ./run says it is ready,
// it must say WATCHDOG=1 within every timeout-watchdog, unless it is
// paused.
func (s *Supervisor) armWatchdog(now time.Time) {
	if s.ready.watchdog > 0 && s.state == running && !s.paused && s.ready.since != (tai64.Label{}) && s.alarm.IsZero() {
		s.alarm = now.Add(s.ready.watchdog)
	}
}

// runExited follows the end of ./run (or of its daemon): ./finish, if
// there is one, else what comes after it.
func (s *Supervisor) runExited(now time.Time, e exit) {
	s.since = label(now)
	s.stopSent, s.stopSince = false, tai64.Label{}
	s.ready.exited()
	s.probe.Stop()
	s.exited, s.lastExit = true, e
	s.exitUnhealthy, s.exitProbe, s.healthStop, s.healthStopProbe = s.healthStop, s.healthStopProbe, false, ""
	s.paused = false
	// Backoff: a run that died within the pause before its start makes
	// the next pause twice as long, up to backoff-max.
	pause := s.pause
	if now.Sub(s.lastStart) < pause {
		s.pause = min(2*pause, s.backoffMax())
	} else {
		pause, s.pause = restartGap, restartGap
	}
	next := s.lastStart.Add(pause)
	c, err := s.fx.startFinish(e)
	switch {
	case err == nil:
		s.child, s.state, s.nextStart = c, finishing, next
		s.alarm = time.Time{}
		if t := s.timeoutFinish(); t > 0 {
			s.alarm = now.Add(t)
		}
		s.changed()
		return
	case err != errNoFinish:
		s.warn("unable to start ", s.opt.Dir, "/finish: ", err)
	}
	s.afterRun(now, next)
}

// afterRun is the end of a run, ./finish included: the service starts
// again at next if wanted up, else stays down. A one-shot task whose
// ./run exited 0 is done: wanted neither up nor down (as after svc -o),
// so that daemontools' svstat says only that it is down. Only then is
// the oneshot file looked for: a crash's restart does without the lookup
// before its fork.
func (s *Supervisor) afterRun(now, next time.Time) {
	if s.state != failed {
		s.state = stopped
	}
	s.alarm = time.Time{}
	if s.state != failed && s.lastExit == (exit{}) && s.has(oneshotFile) {
		s.state, s.startAsked = done, false
		if s.want == status.WantUp {
			s.want = status.WantNone
		}
		s.changed()
		return
	}
	if !s.exiting && s.want == status.WantUp || s.startAsked {
		s.startAt(now, next)
		return
	}
	s.changed()
}

// startAt starts ./run at next, or at now if that is later, or a second
// after the last start if that is later still. A run that cannot be
// started is reported and, while the service is wanted up, tried again a
// second later.
//
// Before the fork, startRun marks the start under way; the record naming
// ./run, written after it, clears the mark (announce).
func (s *Supervisor) startAt(now, next time.Time) {
	if gap := s.lastStart.Add(restartGap); next.Before(gap) {
		next = gap
	}
	if now.Before(next) {
		s.changed()
		s.state, s.alarm = backoff, next
		return
	}
	if s.waitForNeeds(now) {
		return
	}
	s.changed()
	s.lastStart = now
	s.state, s.alarm = stopped, time.Time{}
	s.startAsked = false
	s.ready.since, s.ready.text = tai64.Label{}, ""
	c, how, err := s.fx.startRun()
	s.marked = true
	s.ready.has, s.ready.sockets, s.ready.watchdog = how.has, how.sockets, how.watchdog
	if err != nil {
		s.startError = "unable to start run: " + strerr.Reason(err)
		strerr.Report(s.opt.Stderr, "supervise", strerr.Fatal("unable to start ", s.opt.Dir, "/run: ", err))
		if s.want == status.WantUp {
			s.state, s.alarm = backoff, now.Add(restartGap)
		}
		return
	}
	s.child, s.runID = c, c.start
	s.startError = ""
	s.starts++
	s.paused = false
	s.since = label(now)
	s.state = s.upState()
	s.startProbes(now) // the record says whether the service has a probe
	// The record names ./run once runsv's files say it runs, as runsv
	// orders them; until then, the mark of the start under way (startRun)
	// lets a next supervisor find it.
	s.dirty = false
	s.announce()
}

// waitForNeeds tells whether ./run must wait for the services needs/
// names, and makes the service wait if so; the record is written when
// what it waits for changes.
func (s *Supervisor) waitForNeeds(now time.Time) bool {
	names, heard := s.fx.unmet()
	if len(names) == 0 {
		s.fx.unwatchNeeds()
		s.waitingFor = nil
		return false
	}
	if s.state != waiting || !slices.Equal(names, s.waitingFor) {
		s.changed()
	}
	s.state, s.waitingFor, s.alarm = waiting, names, now.Add(needsRecheck)
	if !heard {
		s.alarm = now.Add(needsLook)
	}
	return true
}

// signalStop sends the service's process its down signal and CONT, and,
// for a service with a pidfile file or whose process MAINPID= named, the
// same to the processes it left (pidfile.go).
func (s *Supervisor) signalStop() {
	s.probe.Stop()
	sig := s.downSignal()
	leftovers := s.has(pidfileFile) || s.child.named == byMainpid
	if leftovers {
		// Before the signal: the descendants of a daemon that is not
		// this process's child are found only while it lives. Those
		// born since the latest look are found at the next.
		s.leftovers = s.fx.findLeftovers(s.leftovers)
	}
	if s.child.pid != 0 {
		s.signalChild(sig)
		s.stopSent = true
		s.signalChild(unix.SIGCONT)
	}
	s.paused = false
	if leftovers {
		s.signalLeftovers(sig)
		s.signalLeftovers(unix.SIGCONT)
	}
}

// signalChild sends sig to the process watched, if any.
func (s *Supervisor) signalChild(sig syscall.Signal) {
	if s.child.pid != 0 {
		s.fx.signal(&s.child, sig)
	}
}

// signalLeftovers sends sig to the leftovers.
func (s *Supervisor) signalLeftovers(sig syscall.Signal) {
	for i := range s.leftovers {
		s.fx.signal(&s.leftovers[i], sig)
	}
}

// pruneLeftovers forgets the leftovers that have exited, and tells
// whether any are left.
func (s *Supervisor) pruneLeftovers() bool {
	kept := s.leftovers[:0]
	for _, c := range s.leftovers {
		if s.fx.ended(&c) {
			c.release()
		} else {
			kept = append(kept, c)
		}
	}
	clear(s.leftovers[len(kept):])
	s.leftovers = kept
	return len(kept) > 0
}
