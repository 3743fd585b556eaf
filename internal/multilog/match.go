package multilog

// Match reports whether line matches pattern with daemontools' star rule: a
// star before the end of the pattern matches any run of bytes not containing
// the pattern's next byte, a star at the end matches everything left.
func Match(pattern string, line []byte) bool {
	p := 0
	for {
		if p == len(pattern) {
			return len(line) == 0
		}
		c := pattern[p]
		p++
		if c == '*' {
			if p == len(pattern) {
				return true
			}
			next := pattern[p]
			for {
				if len(line) == 0 {
					return false
				}
				if line[0] == next {
					break
				}
				line = line[1:]
			}
			continue
		}
		if len(line) == 0 || line[0] != c {
			return false
		}
		line = line[1:]
	}
}
