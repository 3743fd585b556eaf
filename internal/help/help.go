// Package help holds what `PROG --help` prints for every program: the
// usage line and one paragraph, the short form of the program's man page
// (man/PROG.8). strerr.Main prints it.
package help

// Text returns the help of the program named prog, and false when there
// is none. A switch rather than a map: it costs nothing at start-up.
func Text(prog string) (string, bool) {
	var usage, about string
	switch prog {
	case "envdir":
		usage = "envdir dir child"
		about = `Runs child with environment variables set and removed as the files of
dir say: each file whose name does not start with a dot sets the variable
of that name to its first line (trailing spaces and tabs removed, NULs
turned into newlines), and an empty file removes the variable. Exits 111
if dir cannot be read or child cannot be run.`
	case "envuidgid":
		usage = "envuidgid account child"
		about = `Runs child with $UID and $GID set to the uid and primary gid of
account, without changing its own. Exits 111 if account does not exist or
child cannot be run.`
	case "fghack":
		usage = "fghack child"
		about = `Runs child, a program that insists on putting itself in the
background, and waits until it and every process it started have closed
the 31 copies of a pipe they inherit; then exits with child's exit code,
or 111 if child was killed or could not be run.`
	case "multilog":
		usage = "multilog script"
		about = `Reads lines on its input and applies the actions of script to each:
t labels lines with TAI64N (T with UTC time in RFC 3339), -pattern and
+pattern deselect and select them, e and =file show them, 1 writes them
to stdout (j as JSON lines) named by pNAME, sSIZE, nNUM and !processor
set up the next log directory, and an action starting with . or / is a
log directory that gets the selected lines, rotated once current reaches
SIZE. Exits 0 at the end of input or on TERM, 111 when a log directory
cannot be set up.`
	case "pgrphack":
		usage = "pgrphack child"
		about = `Runs child in a new session and process group of its own, so that
signals sent to the group it was started in do not reach it.`
	case "readproctitle":
		usage = "readproctitle args ... dots"
		about = `Reads its input and shows its latest bytes in its own command line, in
place of the dots of its last argument, so that ps shows them: this is how
svscanboot shows svscan's recent errors. Needs a last argument of at least
five bytes; exits 0 at the end of input.`
	case "setlock":
		usage = "setlock [ -nNxX ] file program [ arg ... ]"
		about = `Opens file (creating it if needed, never truncating it), takes an
exclusive lock on it, and runs program holding the lock until program and
everything it started are done. -n fails at once if file is already
locked, -N waits for the lock (the default), -x exits 0 quietly if file
cannot be opened or locked, -X complains and exits 111 (the default).`
	case "setuidgid":
		usage = "setuidgid account child"
		about = `Runs child as account: its supplementary groups become account's
primary group alone, then its gid and uid become account's. Exits 111 if
account does not exist, the change is refused, or child cannot be run.`
	case "softlimit":
		usage = "softlimit [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child"
		about = `Runs child with soft resource limits set: -m sets the data, stack,
locked-memory and address-space limits at once, the others one limit
each. A value of = means the hard limit, and a value above the hard limit
is lowered to it.`
	case "supervise":
		usage = "supervise dir"
		about = `Runs ./run in the service directory dir and starts it again whenever it
exits (at most once a second), unless dir/down exists or svc says
otherwise. It keeps its state in dir/supervise: a lock, the control and ok
FIFOs through which svc and svok reach it, and the status file svstat
reads. On SIGTERM it stops the service and exits once it is down. Optional
files in dir: finish (run after each exit), timeout-finish, down-signal,
timeout-kill, backoff-max, pidfile (where a daemon that forks writes its
pid: after ./run exits 0, that process is supervised as the service),
notification-fd, notify-socket (systemd's sd_notify; MAINPID= names the
service's process as a pidfile does), timeout-watchdog.`
	case "svc":
		usage = "svc [-udopchaitkxq12w] dir ..."
		about = `Controls the services supervised in each dir: -u up (start it, and
restart it whenever it stops), -d down (TERM and CONT), -o once (start it,
do not restart it), -p pause (STOP), -c continue (CONT), -h, -a, -i, -t
and -k send HUP, ALRM, INT, TERM and KILL, -q, -1, -2 and -w send QUIT,
USR1, USR2 and WINCH, and -x tells supervise to exit once the service is
down. A dir whose supervise is not running gets a
warning and svc goes on with the next.`
	case "svok":
		usage = "svok dir"
		about = `Tells by its exit code whether supervise is running for the service
directory dir: 0 when it is, 100 when it is not, 111 when it cannot tell.`
	case "svscan":
		usage = "svscan [-1] [dir]"
		about = `Runs a supervise for every service directory in dir (default the
current directory) whose name does not start with a dot, and a second one
for its log subdirectory with a pipe from the service to its logger (a
service with a log-script file instead gets multilog from svscan). New
directories are picked up as soon as they appear, and looked for every
five seconds too; a service whose directory goes away is stopped. SIGTERM
stops every service in order, then svscan. With -1, every supervisor runs
inside svscan itself, with the same files in supervise/ (a service with a
pidfile file, whose daemon forks, still gets a supervise of its own).`
	case "svscanboot":
		usage = "svscanboot [dir]"
		about = `Starts supervision at boot: stops what a previous boot left running in
dir (default /service) with svc -dx, then becomes svscan dir with its
messages shown by readproctitle in the output of ps. init or systemd runs
it.`
	case "svstat":
		usage = "svstat [-l|-j] dir ..."
		about = `Prints one line for each service directory dir saying whether its
service is up (and its pid) or down, for how many seconds, and whether
that differs from how it normally is, paused or wanted otherwise; or why
it cannot tell. -l adds restarts, the last exit, readiness, health and
the next start; -j prints one JSON object per dir instead. Always exits 0.`
	case "svmetrics":
		usage = "svmetrics [-l host:port] dir"
		about = `Serves the state of every service in the scan directory dir (and of
their log services, named NAME/log) over HTTP, from their status records
alone: /metrics in Prometheus' text format, /healthz (200 while every
normally-up service is up, ready and healthy, else 503 and the failing
names) and
/status (svstat -j's objects as one JSON array). Listens on host:port
(-l), 127.0.0.1:9076 by default. Exits 100 on a usage error, 111 when dir
cannot be opened or the address cannot be bound.`
	case "svwait":
		usage = "svwait [-u|-U|-H|-d|-D] [-o] [-t MS] dir ..."
		about = `Waits until the service supervised in every dir (in one dir, with -o)
is up (-u, the default), up and ready (-U: it said so through
notification-fd or notify-socket, or it has neither), up and healthy
(-H: its latest health probe passed, or it has none), down (-d), or down
with its finish done (-D). It wakes when supervise changes the status
file, never at an interval. Exits 0 once it holds, 99 when MS
milliseconds (-t) pass first, 100 on a usage error, 111 when a dir's
supervise is not running or exits first.`
	case "tai64n":
		usage = "tai64n"
		about = `Copies its input to its output with an @ and the current time as a
TAI64N label (24 hexadecimal digits) and a space before each line.`
	case "tai64nlocal":
		usage = "tai64nlocal"
		about = `Copies its input to its output with the TAI64N label at the start of
each line turned into local time, as YYYY-MM-DD HH:MM:SS.NNNNNNNNN;
other lines pass unchanged.`
	default:
		return "", false
	}
	return "usage: " + usage + "\n\n" + about + "\nSee man 8 " + prog + ".\n", true
}
