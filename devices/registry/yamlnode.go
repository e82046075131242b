package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses one YAML document into its root mapping.
func parseYAML(ps *problems, data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			ps.at(0, 0, "", "the file is empty: start from examples/demo-site.yaml")
			return nil, false
		}
		msg := err.Error()
		line := 0
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		} else {
			msg = strings.TrimPrefix(msg, "yaml: ")
		}
		// yaml.v3 reports the line where the enclosing block starts, which
		// may be above the mistake.
		ps.at(line, 0, "", "YAML syntax error at or below this line: %s: check the indentation (spaces, not tabs) and quote text that holds a colon or starts with a special character", msg)
		return nil, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.at(extra.Line, extra.Column, "", "a second YAML document starts here: a site file holds one document; remove the --- and merge the lists")
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			ps.at(root.Line, root.Column, "", "the file is empty: start from examples/demo-site.yaml")
		} else {
			ps.at(root.Line, root.Column, "", "the site file must be a mapping with the keys %s, got %s", quoteList(siteKeys), kindOf(root))
		}
		return nil, false
	}
	return root, len(ps.list) == 0
}

// deref follows YAML aliases to the node they stand for.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// kindOf describes a node's type for messages.
func kindOf(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return strconv.Quote(n.Value)
	}
	return "a YAML node of an unexpected kind"
}

// locate finds the line and column of a key path such as
// "people[2].contacts[0].address" under root. When the path does not exist
// (a missing key) it returns the position of the deepest node that does.
func locate(root *yaml.Node, key string) (int, int) {
	n := root
	line, col := n.Line, n.Column
	for part := range strings.SplitSeq(key, ".") {
		name, idx := part, -1
		if i := strings.IndexByte(part, '['); i >= 0 && strings.HasSuffix(part, "]") {
			name = part[:i]
			idx, _ = strconv.Atoi(part[i+1 : len(part)-1])
		}
		if name != "" {
			v, k := mapValue(n, name)
			if v == nil {
				return line, col
			}
			// A scalar is reported where its key is; lists and
			// mappings where they start.
			n = v
			line, col = k.Line, k.Column
		}
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line, col
			}
			n = deref(n.Content[idx])
			line, col = n.Line, n.Column
		}
	}
	return line, col
}

// mapValue returns the value and key nodes of key in mapping n.
func mapValue(n *yaml.Node, key string) (v, k *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1]), n.Content[i]
		}
	}
	return nil, nil
}

// items returns the entries of the list under key in o, each checked to be a
// mapping with known keys only. An entry that is not a mapping is reported
// and stands in the result as an empty object, so that indexes stay those of
// the file.
func (d *decoder) items(o *object, key, noun string, known []string) []*object {
	return d.namedItems(o, key, noun, known, nil)
}

// namedItems is items with a function that names entry i in messages.
func (d *decoder) namedItems(o *object, key, noun string, known []string, name func(i int) string) []*object {
	v := o.value(key)
	if v == nil || (v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null") {
		return nil
	}
	path := joinKey(o.path, key)
	if v.Kind != yaml.SequenceNode {
		d.ps.at(v.Line, v.Column, path, "%s must be a list of %s entries (each starting with \"- \"), got %s", key, noun, kindOf(v))
		return nil
	}
	out := make([]*object, 0, len(v.Content))
	for i, item := range v.Content {
		item = deref(item)
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if item.Kind != yaml.MappingNode {
			d.ps.at(item.Line, item.Column, ipath, "each entry of %s must be a mapping of keys (%s), got %s", key, strings.Join(known, ", "), kindOf(item))
			item = &yaml.Node{Kind: yaml.MappingNode, Line: item.Line, Column: item.Column}
		}
		what := ""
		if name != nil {
			what = name(i)
		}
		out = append(out, d.namedObject(ipath, item, noun, what, known))
	}
	return out
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// object is one mapping of the site file being decoded.
type object struct {
	d    *decoder
	path string // key path of the mapping, e.g. "devices[3]"
	node *yaml.Node
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
	what string // names it in messages, e.g. `device "m-17"`
}

// object checks that n has only known keys, each once.
func (d *decoder) object(path string, n *yaml.Node, noun string, known []string) *object {
	return d.namedObject(path, n, noun, "", known)
}

// namedObject is object for a mapping that what names in messages; if what
// is "", the mapping's id names it.
func (d *decoder) namedObject(path string, n *yaml.Node, noun, what string, known []string) *object {
	o := &object{d: d, path: path, node: n, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, what: noun}
	type pair struct{ k, v *yaml.Node }
	var unknown []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.ps.always(k.Line, k.Column, path, "a key of %s is %s: keys are plain words such as %s", noun, kindOf(k), known[0])
			continue
		}
		if first, dup := o.keys[k.Value]; dup {
			d.ps.always(k.Line, k.Column, joinKey(path, k.Value), "key %q is given twice in this %s (first on line %d): remove one", k.Value, noun, first.Line)
			continue
		}
		o.keys[k.Value], o.vals[k.Value] = k, v
		if !contains(known, k.Value) {
			unknown = append(unknown, pair{k, v})
		}
	}
	switch id, person := o.vals["id"], o.vals["person"]; {
	case what != "":
		o.what = what
	case id != nil && id.Kind == yaml.ScalarNode && id.Value != "":
		o.what = fmt.Sprintf("%s %q", noun, id.Value)
	case noun == "roster" && person != nil && person.Kind == yaml.ScalarNode && person.Value != "":
		o.what = fmt.Sprintf("roster of person %q", person.Value)
	case path != "":
		o.what = "this " + noun
	}
	for _, p := range unknown {
		key := joinKey(path, p.k.Value)
		if p.k.Value == "<<" {
			d.ps.at(p.k.Line, p.k.Column, key, "merge keys (<<) are not supported: write the keys out")
			continue
		}
		d.ps.at(p.k.Line, p.k.Column, key, "unknown key %q in %s%s: the keys are %s", p.k.Value, o.what, suggestKey(p.k.Value, known), strings.Join(known, ", "))
	}
	return o
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (o *object) has(key string) bool { return o.vals[key] != nil }

func (o *object) value(key string) *yaml.Node { return o.vals[key] }

// problem reports a problem with key at the key's position.
func (o *object) problem(key, format string, args ...any) {
	line, col := o.node.Line, o.node.Column
	if k := o.keys[key]; k != nil {
		line, col = k.Line, k.Column
	}
	o.d.ps.at(line, col, joinKey(o.path, key), format, args...)
}

// scalar returns the value of key if it is given and is a scalar. A missing
// key is reported when hint (how to fix it) is not empty.
func (o *object) scalar(key, hint, want string) (*yaml.Node, bool) {
	v := o.vals[key]
	if v == nil || (v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null") {
		if hint != "" {
			if v == nil {
				o.problem(key, "%s has no %s: %s", o.what, key, hint)
			} else {
				o.problem(key, "%s has an empty %s: %s", o.what, key, hint)
			}
		}
		return nil, false
	}
	if v.Kind != yaml.ScalarNode {
		o.problem(key, "%s has %s as %s, which must be %s", o.what, kindOf(v), key, want)
		return nil, false
	}
	return v, true
}

// str returns the text of key. Numbers are taken as written ("room: 201").
func (o *object) str(key, hint string) string {
	v, ok := o.scalar(key, hint, "text")
	if !ok {
		return ""
	}
	if v.ShortTag() == "!!bool" {
		o.problem(key, "%s has %s %s, a boolean: quote it (\"%s\") if it is meant as text", o.what, key, v.Value, v.Value)
		return ""
	}
	return v.Value
}

// secret is str for a value that must not appear in messages.
func (o *object) secret(key string) string {
	v, ok := o.scalar(key, "", "text")
	if !ok {
		return ""
	}
	if v.ShortTag() != "!!str" {
		o.problem(key, "%s has a %s that is not text: write the hash in quotes", o.what, key)
		return ""
	}
	return v.Value
}

func (o *object) number(key, hint string) (float64, bool) {
	v, ok := o.scalar(key, hint, "a number")
	if !ok {
		return 0, false
	}
	if t := v.ShortTag(); t != "!!int" && t != "!!float" {
		o.problem(key, "%s has %s %s, which is not a number: write a plain decimal number without quotes or units", o.what, key, kindOf(v))
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.ReplaceAll(v.Value, "_", ""), 64)
	if err != nil {
		if i, err2 := strconv.ParseInt(v.Value, 0, 64); err2 == nil {
			return float64(i), true
		}
		o.problem(key, "%s has %s %s, which is not a finite number: write a plain decimal number", o.what, key, v.Value)
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		o.problem(key, "%s has %s %s, which is not a finite number: write a plain decimal number", o.what, key, v.Value)
		return 0, false
	}
	return f, true
}

func (o *object) integer(key, hint string) (int, bool) {
	v, ok := o.scalar(key, hint, "a whole number")
	if !ok {
		return 0, false
	}
	if v.ShortTag() != "!!int" {
		o.problem(key, "%s has %s %s, which is not a whole number: write e.g. %s: 3", o.what, key, kindOf(v), key)
		return 0, false
	}
	i, err := strconv.ParseInt(v.Value, 0, 32)
	if err != nil {
		o.problem(key, "%s has %s %s, which is too large", o.what, key, v.Value)
		return 0, false
	}
	return int(i), true
}

func (o *object) boolean(key string) bool {
	v, ok := o.scalar(key, "", "true or false")
	if !ok {
		return false
	}
	if v.ShortTag() != "!!bool" {
		o.problem(key, "%s has %s %s: write true or false", o.what, key, kindOf(v))
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(v.Value))
	return b
}

// strs returns the list of texts under key, or nil if it is not given.
func (o *object) strs(key string) []string {
	v := o.vals[key]
	if v == nil || (v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null") {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		o.problem(key, "%s has %s as %s, which must be a list, e.g. %s: [a, b]", o.what, kindOf(v), key, key)
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		item = deref(item)
		if item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" || item.ShortTag() == "!!bool" {
			o.d.ps.at(item.Line, item.Column, fmt.Sprintf("%s.%s[%d]", o.path, key, i), "%s has %s in its %s: each entry must be a single word such as an id", o.what, kindOf(item), key)
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// clock returns the time of day under key, written "HH:MM".
func (o *object) clock(key, hint string) TimeOfDay {
	v, ok := o.scalar(key, hint, `a time of day such as "08:00"`)
	if !ok {
		return 0
	}
	t, ok := ParseTimeOfDay(v.Value)
	if !ok || v.ShortTag() != "!!str" {
		o.problem(key, "%s has %s %s, which is not a time of day: write \"HH:MM\" in quotes, from \"00:00\" to \"24:00\"", o.what, key, kindOf(v))
		return 0
	}
	return t
}
