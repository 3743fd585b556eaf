package multilog

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
	Stamp   bool // t: prefix every line with a TAI64N label
	Actions []Action
}

// Parse reads a script the way daemontools does: t counts only as the first
// action, sSIZE, nNUM and !processor set up the directories that follow them,
// and anything it does not know is ignored.
func Parse(args []string) Script {
	var s Script
	size, num, processor := int64(DefaultSize), DefaultNum, ""
	for i, a := range args {
		if a == "" {
			continue
		}
		switch a[0] {
		case 't':
			if i == 0 {
				s.Stamp = true
			}
		case 's':
			size = min(max(scanNumber(a[1:]), MinSize), MaxSize)
		case 'n':
			num = int(max(scanNumber(a[1:]), MinNum))
		case '!':
			processor = a[1:]
		case '-', '+':
			s.Actions = append(s.Actions, Action{Kind: Kind(a[0]), Pattern: a[1:]})
		case 'e':
			s.Actions = append(s.Actions, Action{Kind: Echo})
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
