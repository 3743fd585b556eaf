package multilog

// Match reports whether line matches pattern with daemontools' star rule: a
// star before the end of the pattern matches any string that does not
// contain the pattern's next byte; a star at the end matches anything.
func Match(pattern string, line []byte) bool {
	p := 0
	for {
		if p == len(pattern) {
			return len(line) == 0
		}
		ch := pattern[p]
		p++
		if ch == '*' {
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
		if len(line) == 0 || line[0] != ch {
			return false
		}
		line = line[1:]
	}
}
