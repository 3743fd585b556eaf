package multilog

import "path/filepath"

// Limits on the rotation settings, as daemontools clamps them.
const (
	DefaultSize = 99999
	MinSize     = 4096
	MaxSize     = 16777215
	DefaultNum  = 10
	MinNum      = 2
	// HeadLen is how much of a line patterns and = look at; EchoLen how
	// much e prints.
	HeadLen = 1000
	EchoLen = 200
	// window is how close to SIZE current must be for a newline to end it.
	window = 2000
)

// Kind is what an action does.
type Kind byte

// The actions of a script.
const (
	Deselect Kind = '-'
	Select   Kind = '+'
	Echo     Kind = 'e'
	Status   Kind = '='
	Dir      Kind = 'd'
	// Stream actions, ours: daemontools ignores these letters.
	Stdout Kind = '1' // the line on standard output, as s6-log's 1
	JSON   Kind = 'j' // the line on standard output as a JSON object
)

// Stamping is how lines are labelled, by the script's first action.
type Stamping byte

const (
	NoStamp Stamping = 0
	TAI64N  Stamping = 't' // "@" + 24 hex digits, daemontools' t
	RFC3339 Stamping = 'T' // UTC, microseconds: 2026-01-02T15:04:05.000000Z
)

// Action is one step of the script applied to every line.
type Action struct {
	Kind    Kind
	Pattern string // Select, Deselect
	Path    string // Status file or log directory
	// Rotation settings of a log directory.
	Size      int64
	Num       int
	Processor string
}

// Script is a parsed multilog command line.
type Script struct {
	Stamp   Stamping // t or T: a label before every line
	Actions []Action
	// Name is the service's name, set by pNAME, which stream actions
	// put before every line. Named says a p came, with or without NAME:
	// an empty p leaves it to the command to find the name.
	Name  string
	Named bool
}

// Parse reads a script the way daemontools does: t counts only as the first
// action, sSIZE, nNUM and !processor set up the directories that follow them,
// and anything it does not know is ignored. Our additions are letters
// daemontools ignores: T (first only, as t), 1, j and pNAME.
func Parse(args []string) Script {
	var s Script
	size, num, processor := int64(DefaultSize), DefaultNum, ""
	for i, a := range args {
		if a == "" {
			continue
		}
		switch a[0] {
		case 't', 'T':
			if i == 0 {
				s.Stamp = Stamping(a[0])
			}
		case 'p':
			s.Name, s.Named = a[1:], true
		case 's':
			size = min(max(scanNumber(a[1:]), MinSize), MaxSize)
		case 'n':
			num = int(max(scanNumber(a[1:]), MinNum))
		case '!':
			processor = a[1:]
		case '-', '+':
			s.Actions = append(s.Actions, Action{Kind: Kind(a[0]), Pattern: a[1:]})
		case 'e', '1', 'j':
			s.Actions = append(s.Actions, Action{Kind: Kind(a[0])})
		case '=':
			s.Actions = append(s.Actions, Action{Kind: Status, Path: a[1:]})
		case '.', '/':
			s.Actions = append(s.Actions, Action{Kind: Dir, Path: a, Size: size, Num: num, Processor: processor})
		}
	}
	return s
}

// scanNumber reads the leading decimal digits of s, saturating well above
// any limit, and 0 when there are none.
func scanNumber(s string) int64 {
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = min(n*10+int64(s[i]-'0'), 1<<40)
	}
	return n
}

// ServiceName is the name of the service whose logger runs in dir:
// supervise runs a logger in the service's log directory, DIR/log, and
// gives it no variable naming the service, so the name is DIR's. A dir
// not named log is taken for the service's own.
func ServiceName(dir string) string {
	dir = filepath.Clean(dir)
	if filepath.Base(dir) == "log" {
		dir = filepath.Dir(dir)
	}
	if name := filepath.Base(dir); name != "/" && name != "." {
		return name
	}
	return ""
}
