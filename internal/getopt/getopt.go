// Package getopt parses options the way daemontools' sgetopt does, with its
// messages: "PROG: illegal option -- z" and "PROG: option requires an
// argument -- m". Options stop at the first non-option, at "-" and after "--".
package getopt

import "io"

// Parser walks the options of one argument list.
type Parser struct {
	prog   string
	spec   string // option letters; a letter followed by ':' takes an argument
	args   []string
	stderr io.Writer
	ind    int // index of the argument being read
	pos    int // position inside args[ind]; 0 means not started
	Arg    string
}

// New returns a parser for args (without the program name) with option
// letters spec, e.g. "nNxX" or "a:c:d:"; messages go to stderr.
func New(prog, spec string, args []string, stderr io.Writer) *Parser {
	return &Parser{prog: prog, spec: spec, args: args, stderr: stderr}
}

// Next returns the next option letter, with its argument in p.Arg, '?'
// after printing a message for a bad option, or 0 when options end.
func (p *Parser) Next() byte {
	if p.pos == 0 {
		if p.ind >= len(p.args) {
			return 0
		}
		a := p.args[p.ind]
		if len(a) < 2 || a[0] != '-' {
			return 0
		}
		if a == "--" {
			p.ind++
			return 0
		}
		p.pos = 1
	}
	a := p.args[p.ind]
	c := a[p.pos]
	p.pos++
	atEnd := p.pos >= len(a)
	if atEnd {
		p.ind++
		p.pos = 0
	}
	i := indexByte(p.spec, c)
	if i < 0 || c == ':' {
		io.WriteString(p.stderr, p.prog+": illegal option -- "+string(c)+"\n")
		return '?'
	}
	if i+1 < len(p.spec) && p.spec[i+1] == ':' {
		switch {
		case !atEnd:
			p.Arg = a[p.pos:]
			p.ind++
			p.pos = 0
		case p.ind < len(p.args):
			p.Arg = p.args[p.ind]
			p.ind++
		default:
			io.WriteString(p.stderr, p.prog+": option requires an argument -- "+string(c)+"\n")
			return '?'
		}
	}
	return c
}

// Rest returns the arguments after the options.
func (p *Parser) Rest() []string { return p.args[p.ind:] }

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
