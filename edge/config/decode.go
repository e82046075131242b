package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is one problem in a config file, at a line and column, in the context
// of a bus and device when it belongs to one.
type Error struct {
	File    string
	Line    int
	Col     int
	Context string // e.g. `bus "rs485-1", device "m-17"`
	Msg     string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Col)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Context != "" {
		b.WriteString(e.Context)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a config file, in file order.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ByteSize is a size in bytes, written as a number or with a unit: 512MiB,
// 2GiB, 100MB.
type ByteSize int64

// Date is a day or an instant, written 2025-01-01 or in RFC 3339.
type Date struct{ time.Time }

var (
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
	dateType     = reflect.TypeFor[Date]()
)

// decoder maps a YAML node tree onto config structs strictly: unknown keys,
// duplicate keys and values of the wrong type are errors, each with its line.
type decoder struct {
	file  string
	errs  Errors
	nodes map[string]*yaml.Node // value node of each decoded path, for later checks
	bad   map[string]bool       // paths that failed to decode: not checked further
}

func (d *decoder) errAt(n *yaml.Node, ctx, format string, args ...any) {
	e := &Error{File: d.file, Context: ctx, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// wrong reports a value that cannot be decoded; its path is not checked further.
func (d *decoder) wrong(n *yaml.Node, path, ctx, format string, args ...any) {
	d.bad[path] = true
	d.errAt(n, ctx, format, args...)
}

// contexter lets a list element name itself from its mapping (bus name,
// device id) before its fields are decoded.
type contexter interface {
	context(parent string, index int, m map[string]string) string
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path, ctx string) {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.nodes[path] = n
	key := lastKey(path)
	if n.Tag == "!!null" {
		return // an empty value keeps the default
	}
	switch v.Type() {
	case durationType:
		dur, err := parseDuration(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.wrong(n, path, ctx, "%s %s: not a duration: write it like 500ms, 10s, 5m, 2h or 7d", key, show(n))
			return
		}
		v.SetInt(int64(dur))
		return
	case byteSizeType:
		b, err := parseByteSize(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.wrong(n, path, ctx, "%s %s: not a size: write it like 512MiB or 2GiB", key, show(n))
			return
		}
		v.SetInt(b)
		return
	case dateType:
		t, err := parseDate(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.wrong(n, path, ctx, "%s %s: not a date: write it like 2025-01-01", key, show(n))
			return
		}
		v.Set(reflect.ValueOf(Date{t}))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path, ctx)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path, ctx)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.wrong(n, path, ctx, "%s: expected a list, got %s", key, kindName(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			ictx := ctx
			if c, ok := s.Index(i).Addr().Interface().(contexter); ok {
				ictx = c.context(ctx, i, scalars(item))
			}
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i), ictx)
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.wrong(n, path, ctx, "%s: expected a string, got %s", key, kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 0, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.wrong(n, path, ctx, "%s %s: expected a whole number", key, show(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || err != nil {
			d.wrong(n, path, ctx, "%s %s: expected a number", key, show(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.wrong(n, path, ctx, "%s %s: expected true or false", key, show(n))
			return
		}
		v.SetBool(n.Value == "true")
	default:
		panic("config: unsupported field type " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path, ctx string) {
	if n.Kind != yaml.MappingNode {
		if path == "" {
			d.wrong(n, path, ctx, "expected a mapping of keys (gateway, mqtt, buses...), got %s", kindName(n))
		} else {
			d.wrong(n, path, ctx, "%s: expected a mapping of keys, got %s", describe(path), kindName(n))
		}
		return
	}
	fields := fieldsOf(v)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := k.Value
		where := name
		if path != "" {
			where = path + "." + name
		}
		if seen[name] {
			d.errAt(k, ctx, "key %q appears twice", name)
			continue
		}
		seen[name] = true
		f, ok := fields[name]
		if !ok {
			msg := fmt.Sprintf("unknown key %q", name)
			if s := suggest(name, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else if path != "" {
				msg += fmt.Sprintf(" in %s", lastKey(path))
			}
			d.errAt(k, ctx, "%s", msg)
			continue
		}
		d.decode(val, f, where, ctx)
		d.nodes[where+"#key"] = k
	}
}

// fieldsOf maps yaml key names to the fields of struct v, inline structs included.
func fieldsOf(v reflect.Value) map[string]reflect.Value {
	m := map[string]reflect.Value{}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("yaml")
		if tag == "-" || !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, fv := range fieldsOf(v.Field(i)) {
				m[k] = fv
			}
			continue
		}
		m[name] = v.Field(i)
	}
	return m
}

func scalars(n *yaml.Node) map[string]string {
	m := map[string]string{}
	if n.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i+1].Kind == yaml.ScalarNode {
			m[n.Content[i].Value] = n.Content[i+1].Value
		}
	}
	return m
}

func suggest(name string, fields map[string]reflect.Value) string {
	best, bestD := "", 3
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d := levenshtein(name, k); d < bestD || (strings.Contains(k, name) || strings.Contains(name, k)) && bestD > 2 && len(name) > 2 {
			best, bestD = k, min(d, 2)
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}

// describe names a path for messages: "tls", or "entry 2 of buses".
func describe(path string) string {
	if strings.HasSuffix(path, "]") {
		i := strings.LastIndexByte(path, '[')
		n, _ := strconv.Atoi(path[i+1 : len(path)-1])
		return fmt.Sprintf("entry %d of %s", n+1, lastKey(path[:i]))
	}
	return lastKey(path)
}

// fmtDuration renders a duration the way the config writes it: 7d, 2m, 500ms.
func fmtDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func show(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return kindName(n)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

// parseDuration is time.ParseDuration that also takes days: 7d, 1d12h.
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, err
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	return days + d, err
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

func parseByteSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), 64)
			if err != nil || f < 0 {
				return 0, fmt.Errorf("bad size %q", s)
			}
			return int64(f * float64(u.mult)), nil
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

// formatSize renders n bytes for people.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func reflectValue(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }
