package registry

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// siteEditor changes a site file's text in place, so that the installers'
// lifecycle commands keep the file's comments, blank lines, flow or block
// style and key order: only the values that change are rewritten. It works
// on byte ranges found from the YAML parser's positions and refuses what it
// cannot edit safely (multi-line scalars, several entries on one line),
// asking for a hand edit instead.
type siteEditor struct {
	file  string
	src   []byte
	root  *yaml.Node // the top-level mapping
	lines []int      // byte offset of each line's start
	edits []textEdit
}

// textEdit replaces src[start:end] with text.
type textEdit struct {
	start, end int
	text       string
}

var errHandEdit = errors.New("edit the site file by hand")

func newSiteEditor(file string, src []byte) (*siteEditor, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a site file (a mapping at the top)", file)
	}
	e := &siteEditor{file: file, src: src, root: doc.Content[0], lines: []int{0}}
	for i, c := range src {
		if c == '\n' {
			e.lines = append(e.lines, i+1)
		}
	}
	return e, nil
}

// offset converts a parser position (1-based line, 1-based column counted
// in characters) to a byte offset.
func (e *siteEditor) offset(line, col int) (int, error) {
	if line < 1 || line > len(e.lines) {
		return 0, fmt.Errorf("%s: line %d out of range", e.file, line)
	}
	off := e.lines[line-1]
	for i := 1; i < col; i++ {
		if off >= len(e.src) || e.src[off] == '\n' {
			return 0, fmt.Errorf("%s:%d: column %d out of range", e.file, line, col)
		}
		_, w := utf8.DecodeRune(e.src[off:])
		off += w
	}
	return off, nil
}

// lineEnd returns the offset just past the newline of the given line (or
// the end of the file).
func (e *siteEditor) lineEnd(line int) int {
	if line < len(e.lines) {
		return e.lines[line]
	}
	return len(e.src)
}

// span returns the byte range of a single-line scalar node.
func (e *siteEditor) span(n *yaml.Node) (int, int, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, 0, fmt.Errorf("%s:%d: expected a single value: %w", e.file, n.Line, errHandEdit)
	}
	start, err := e.offset(n.Line, n.Column)
	if err != nil {
		return 0, 0, err
	}
	lineEnd := e.lineEnd(n.Line)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < lineEnd; i++ {
			switch e.src[i] {
			case '\\':
				i++
			case '"':
				return start, i + 1, nil
			}
		}
	case n.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < lineEnd; i++ {
			if e.src[i] == '\'' {
				if i+1 < lineEnd && e.src[i+1] == '\'' {
					i++
					continue
				}
				return start, i + 1, nil
			}
		}
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 && n.Value != "":
		end := start + len(n.Value)
		if end <= lineEnd && string(e.src[start:end]) == n.Value {
			return start, end, nil
		}
	}
	return 0, 0, fmt.Errorf("%s:%d: the value %q spans lines or is written in a way this command does not rewrite: %w", e.file, n.Line, n.Value, errHandEdit)
}

// list returns the sequence under a top-level key, or nil.
func (e *siteEditor) list(key string) *yaml.Node {
	v, _ := mapValue(e.root, key)
	if v == nil || v.Kind != yaml.SequenceNode {
		return nil
	}
	return v
}

// entry returns the mapping of the entry with the given id in a top-level
// list, and its index.
func (e *siteEditor) entry(list, id string) (*yaml.Node, int, error) {
	seq := e.list(list)
	if seq != nil {
		for i, item := range seq.Content {
			if item.Kind != yaml.MappingNode {
				continue
			}
			if v, _ := mapValue(item, "id"); v != nil && v.Kind == yaml.ScalarNode && v.Value == id {
				return item, i, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("%s: there is no %s entry with id %q", e.file, strings.TrimSuffix(list, "s"), id)
}

// set sets key to value in an entry: the value is rewritten where the key
// exists, and the key is added after the entry's last key where it does not.
func (e *siteEditor) set(entry *yaml.Node, key, value string) error {
	text := yamlScalar(value)
	if v, _ := mapValue(entry, key); v != nil {
		start, end, err := e.span(v)
		if err != nil {
			return err
		}
		e.edits = append(e.edits, textEdit{start, end, text})
		return nil
	}
	if len(entry.Content) == 0 {
		return fmt.Errorf("%s:%d: empty entry: %w", e.file, entry.Line, errHandEdit)
	}
	last := entry.Content[len(entry.Content)-1]
	_, end, err := e.span(last)
	if err != nil {
		return err
	}
	if entry.Style&yaml.FlowStyle != 0 {
		e.edits = append(e.edits, textEdit{end, end, ", " + key + ": " + text})
		return nil
	}
	firstKey := entry.Content[0]
	at := e.lineEnd(last.Line)
	prefix := ""
	if at == len(e.src) && (len(e.src) == 0 || e.src[len(e.src)-1] != '\n') {
		prefix = "\n"
	}
	e.edits = append(e.edits, textEdit{at, at, prefix + strings.Repeat(" ", firstKey.Column-1) + key + ": " + text + "\n"})
	return nil
}

// rename replaces key oldKey and its value by newKey: value, in place.
func (e *siteEditor) rename(entry *yaml.Node, oldKey, newKey, value string) error {
	v, k := mapValue(entry, oldKey)
	if v == nil {
		return e.set(entry, newKey, value)
	}
	ks, ke, err := e.span(k)
	if err != nil {
		return err
	}
	vs, ve, err := e.span(v)
	if err != nil {
		return err
	}
	e.edits = append(e.edits, textEdit{ks, ke, newKey}, textEdit{vs, ve, yamlScalar(value)})
	return nil
}

// deleteEntry removes an entry of a block list, with its lines.
func (e *siteEditor) deleteEntry(list string, idx int) error {
	seq := e.list(list)
	if seq == nil || idx >= len(seq.Content) || seq.Style&yaml.FlowStyle != 0 {
		return fmt.Errorf("%s: %s: %w", e.file, list, errHandEdit)
	}
	item := seq.Content[idx]
	first, last := item.Line, maxLine(item)
	if idx > 0 && maxLine(seq.Content[idx-1]) >= first || idx+1 < len(seq.Content) && seq.Content[idx+1].Line <= last {
		return fmt.Errorf("%s:%d: several %s entries share a line: %w", e.file, first, list, errHandEdit)
	}
	e.edits = append(e.edits, textEdit{e.lines[first-1], e.lineEnd(last), ""})
	return nil
}

func maxLine(n *yaml.Node) int {
	m := n.Line
	for _, c := range n.Content {
		m = max(m, maxLine(c))
	}
	return m
}

// result applies the edits and returns the new text.
func (e *siteEditor) result() ([]byte, error) {
	edits := slices.Clone(e.edits)
	slices.SortFunc(edits, func(a, b textEdit) int { return a.start - b.start })
	for i := 1; i < len(edits); i++ {
		if edits[i].start < edits[i-1].end {
			return nil, fmt.Errorf("%s: overlapping edits: %w", e.file, errHandEdit)
		}
	}
	var out bytes.Buffer
	pos := 0
	for _, ed := range edits {
		out.Write(e.src[pos:ed.start])
		out.WriteString(ed.text)
		pos = ed.end
	}
	out.Write(e.src[pos:])
	return out.Bytes(), nil
}

// yamlScalar writes s as a YAML scalar that reads back as the string s:
// plain where that is safe, double-quoted otherwise.
func yamlScalar(s string) string {
	if s != "" && plainSafe(s) {
		var v any
		if err := yaml.Unmarshal([]byte(s), &v); err == nil {
			if str, ok := v.(string); ok && str == s {
				return s
			}
		}
	}
	return strconv.Quote(s)
}

func plainSafe(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && strings.ContainsRune("._-/ ()", r):
		default:
			return false
		}
	}
	return !strings.HasSuffix(s, " ")
}
