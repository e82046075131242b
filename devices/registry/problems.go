package registry

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a site file.
type Problem struct {
	File    string // site file name as given; "" for a Site built in code
	Line    int    // 1-based; 0 if not known
	Column  int    // 1-based; 0 if not known
	Key     string // path of the offending key, e.g. "devices[3].gateway"; "" for the file as a whole
	Message string // names the thing and the fix
}

// String formats the problem as "FILE:LINE: KEY: message", leaving out the
// parts that are not known.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(":")
	}
	if p.Line > 0 {
		b.WriteString(strconv.Itoa(p.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError is the list of every problem found in a site file, sorted
// by line.
type ValidationError struct {
	Problems []Problem
}

// Error returns the problems, one a line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects the problems of one site file. Once a key has a problem,
// later problems with the same key are dropped: a kind that failed to parse
// is not reported again as missing.
type problems struct {
	file   string
	locate func(key string) (line, col int) // nil for a Site built in code
	list   []Problem
	seen   map[string]bool
}

func newProblems(file string) *problems {
	return &problems{file: file, seen: map[string]bool{}}
}

// at records a problem at a known position, unless the key or a key it is
// part of already has one.
func (ps *problems) at(line, col int, key, format string, args ...any) {
	if key != "" {
		if ps.reported(key) {
			return
		}
		ps.seen[key] = true
	}
	ps.always(line, col, key, format, args...)
}

// always records a problem even if its key already has one, and without
// hiding later problems of the key.
func (ps *problems) always(line, col int, key, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: line, Column: col, Key: key, Message: fmt.Sprintf(format, args...)})
}

// anyUnder reports whether key or a key inside it has a problem.
func (ps *problems) anyUnder(key string) bool {
	for _, p := range ps.list {
		if p.Key == key || strings.HasPrefix(p.Key, key+".") || strings.HasPrefix(p.Key, key+"[") {
			return true
		}
	}
	return false
}

// reported reports whether key, or a key that contains it ("devices[3]" for
// "devices[3].id"), has a problem.
func (ps *problems) reported(key string) bool {
	for {
		if ps.seen[key] {
			return true
		}
		i := strings.LastIndexAny(key, ".[")
		if i <= 0 {
			return false
		}
		key = key[:i]
	}
}

// add records a problem whose position is looked up from its key.
func (ps *problems) add(key, format string, args ...any) {
	var line, col int
	if ps.locate != nil {
		line, col = ps.locate(key)
	}
	ps.at(line, col, key, format, args...)
}

// err returns the sorted problems as a *ValidationError, or nil.
func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	slices.SortStableFunc(ps.list, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return &ValidationError{Problems: ps.list}
}

// suggest returns ` (did you mean "x"?)` when one of known is within two
// edits of s.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// keyAliases are names installers may reach for, and the key meant.
var keyAliases = map[string]string{
	"lng": "lon", "long": "lon", "longitude": "lon", "latitude": "lat",
	"password": "password_hash", "type": "kind", "kind": "type", "phone": "contacts",
	"parent": "", "gw": "gateway", "ports": "port_count", "rated_current": "rated_current_a",
}

// suggestKey is suggest for keys, which knows common aliases.
func suggestKey(s string, known []string) string {
	if k, ok := keyAliases[s]; ok && contains(known, k) {
		return fmt.Sprintf(" (did you mean %q?)", k)
	}
	return suggest(s, known)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quoteList formats names as "a, b or c".
func quoteList(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
