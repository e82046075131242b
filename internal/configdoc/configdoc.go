// Package configdoc generates the configuration reference of
// docs/operations.md from the configuration structs themselves: every YAML
// key (from the yaml tags), its type, its default (from a configuration
// loaded the way the program loads it, so derived defaults show too) and
// its doc comment (from the Go source). Defaults applied in code rather
// than in the loaded value (list entries, values derived from others) are
// stated in the doc comment as a sentence "Default: X.", which the
// reference shows in its default column. The docs test fails when the
// reference is stale or a key lacks a meaning or a default;
// CHARGEWATCH_UPDATE_DOCS=1 rewrites it.
package configdoc

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Row is one key of the reference.
type Row struct {
	Key, Type, Default, Doc string
	// Stated is the default the doc comment states ("Default: X."), also
	// when the loaded value is shown instead.
	Stated string
}

// Comments reads the doc comments of the struct types declared in a
// package's folder: type name -> field name -> comment, including the
// fields of anonymous structs, keyed "Outer.Inner".
func Comments(dir string) (map[string]map[string]string, error) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				collect(out, ts.Name.Name, st)
			}
			return false
		})
	}
	return out, nil
}

func collect(out map[string]map[string]string, typ string, st *ast.StructType) {
	if out[typ] == nil {
		out[typ] = map[string]string{}
	}
	for _, f := range st.Fields.List {
		doc := ""
		if f.Doc != nil {
			doc = f.Doc.Text()
		}
		if doc == "" && f.Comment != nil {
			doc = f.Comment.Text()
		}
		for _, n := range f.Names {
			out[typ][n.Name] = oneLine(doc)
			if inner, ok := f.Type.(*ast.StructType); ok {
				collect(out, typ+"."+n.Name, inner)
			}
		}
		if len(f.Names) == 0 {
			if inner, ok := f.Type.(*ast.StructType); ok {
				collect(out, typ, inner)
			}
		}
	}
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Rows walks a configuration value (with its defaults filled in) and
// returns one row per YAML key. typeName is the Go name of v's type, the
// key into comments.
func Rows(v any, typeName string, comments map[string]map[string]string) []Row {
	var rows []Row
	walk(&rows, "", reflect.ValueOf(v), typeName, comments)
	return rows
}

func walk(rows *[]Row, prefix string, v reflect.Value, typeName string, comments map[string]map[string]string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v = reflect.New(v.Type().Elem()).Elem()
			break
		}
		v = v.Elem()
	}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		fv := v.Field(i)
		doc := comments[typeName][f.Name]
		if strings.Contains(opts, "inline") {
			walk(rows, prefix, fv, namedType(f.Type, typeName+"."+f.Name), comments)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + name
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		inList := strings.Contains(prefix, "[]")
		stated, meaning := DocDefault(doc)
		switch {
		case ft.Kind() == reflect.Struct && !leaf(ft):
			if doc != "" {
				*rows = append(*rows, Row{Key: key, Type: "section", Doc: doc})
			}
			walk(rows, key+".", fv, namedType(f.Type, typeName+"."+f.Name), comments)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			*rows = append(*rows, Row{Key: key, Type: "list", Default: stated, Doc: meaning, Stated: stated})
			walk(rows, key+"[].", reflect.New(ft.Elem()).Elem(), ft.Elem().Name(), comments)
		case inList:
			// Entries of a list have no value to take defaults from
			// (cw-edge's buses and devices inherit theirs from the level
			// above): the doc comment states them.
			*rows = append(*rows, Row{Key: key, Type: typeOf(ft), Default: stated, Doc: meaning, Stated: stated})
		default:
			// The loaded value, unless it is zero because the code
			// applies the default later: then the one the comment gives.
			def := format(fv)
			if def == `""` || def == "0" || def == "none" {
				if stated != "" {
					def = stated
				} else if d := clauseDefault(doc); d != "" {
					def = d
				}
			}
			*rows = append(*rows, Row{Key: key, Type: typeOf(ft), Default: def, Doc: meaning, Stated: stated})
		}
	}
}

var (
	defaultSentence = regexp.MustCompile(`(?:^|\s)Default: (.+?)\.(?:\s+|$)`)
	defaultClause   = regexp.MustCompile(`;\s*default (.+?)\.?$`)
)

// DocDefault finds the sentence "Default: X." in a doc comment and returns
// X and the comment without that sentence.
func DocDefault(doc string) (def, meaning string) {
	m := defaultSentence.FindStringSubmatchIndex(doc)
	if m == nil {
		return "", doc
	}
	return doc[m[2]:m[3]], strings.TrimSpace(doc[:m[0]] + " " + doc[m[1]:])
}

// clauseDefault finds a default as older comments give it, in a last
// clause "...; default X.", for a key whose loaded value is zero because
// the code applies the default later.
func clauseDefault(doc string) string {
	if m := defaultClause.FindStringSubmatch(doc); m != nil {
		return m[1]
	}
	return ""
}

// Missing returns the keys of rows (sections aside) without a meaning or
// a default.
func Missing(rows []Row) []string {
	var out []string
	for _, r := range rows {
		if r.Type == "section" {
			continue
		}
		switch {
		case r.Doc == "" && r.Default == "":
			out = append(out, r.Key+" (meaning and default)")
		case r.Doc == "":
			out = append(out, r.Key+" (meaning)")
		case r.Default == "":
			out = append(out, r.Key+" (default)")
		}
	}
	return out
}

// namedType is the comments key of a field's type: its own name when it
// is a named type, else the anonymous struct's path.
func namedType(t reflect.Type, anon string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() != "" {
		return t.Name()
	}
	return anon
}

// leaf types are structs written as one value: times, and structs that
// embed one (cw-edge's Date).
func leaf(t reflect.Type) bool {
	if t == reflect.TypeOf(time.Time{}) {
		return true
	}
	return t.Kind() == reflect.Struct && t.NumField() == 1 && t.Field(0).Anonymous && t.Field(0).Type == reflect.TypeOf(time.Time{})
}

func typeOf(t reflect.Type) string {
	if t.Name() != "" && t.PkgPath() != "" && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map) && !leaf(t) {
		return t.Name()
	}
	switch {
	case leaf(t):
		return "date"
	case t == reflect.TypeOf(time.Duration(0)):
		return "duration"
	case t.Name() == "ByteSize":
		return "size"
	case t.Kind() == reflect.Slice:
		return "list of " + typeOf(t.Elem())
	case t.Kind() == reflect.Map:
		return "map of " + typeOf(t.Elem())
	case (t.Kind() == reflect.Struct || t.Kind() == reflect.Map) && t.Name() != "":
		return t.Name()
	case t.Kind() == reflect.String && t.Name() != "string":
		return "string (" + t.Name() + ")"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "integer"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

func format(v reflect.Value) string {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if leaf(v.Type()) {
		var t time.Time
		if v.Type() == reflect.TypeOf(t) {
			t = v.Interface().(time.Time)
		} else {
			t = v.Field(0).Interface().(time.Time)
		}
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format(time.RFC3339)
	}
	if s, ok := v.Interface().(fmt.Stringer); ok && v.Type() != reflect.TypeOf(time.Duration(0)) && v.Kind() != reflect.Int64 {
		return s.String()
	}
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		return duration(time.Duration(v.Int()))
	case v.Type().Name() == "ByteSize":
		return size(v.Int())
	case v.Kind() == reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case v.Kind() == reflect.Slice || v.Kind() == reflect.Map:
		if v.Len() == 0 {
			return "none"
		}
		if v.Kind() == reflect.Map {
			keys := make([]string, 0, v.Len())
			for _, k := range v.MapKeys() {
				keys = append(keys, fmt.Sprint(k.Interface()))
			}
			sort.Strings(keys)
			return strings.Join(keys, ", ")
		}
	}
	return fmt.Sprint(v.Interface())
}

func duration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d%(24*time.Hour) == 0 && d >= 48*time.Hour {
		return fmt.Sprintf("%dd (%dh)", d/(24*time.Hour), d/time.Hour)
	}
	s := d.String()
	for _, z := range []string{"0s", "0m"} {
		if strings.HasSuffix(s, "m"+z) || strings.HasSuffix(s, "h"+z) {
			s = strings.TrimSuffix(s, z)
		}
	}
	return strings.TrimSuffix(s, "0m")
}

func size(b int64) string {
	for _, u := range []struct {
		n    string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b >= u.mult && b%u.mult == 0 {
			return fmt.Sprintf("%d%s", b/u.mult, u.n)
		}
	}
	return fmt.Sprint(b)
}

// Meanings reads the key tables of a markdown document (rows whose first
// cell names one key in backquotes, the last cell its meaning), for keys
// whose struct field has no doc comment. Rows that name several keys are
// left out: their meaning rarely fits each key alone.
func Meanings(markdown string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(markdown, "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), " | ")
		if len(cells) < 2 {
			continue
		}
		key := strings.TrimSpace(cells[0])
		if strings.Count(key, "`") != 2 || !strings.HasPrefix(key, "`") || !strings.HasSuffix(key, "`") {
			continue
		}
		key = strings.Trim(key, "`")
		if _, dup := out[key]; !dup {
			out[key] = strings.TrimSpace(cells[len(cells)-1])
		}
	}
	return out
}

// Fill gives rows without a doc comment the meaning a document gives.
func Fill(rows []Row, meanings map[string]string) {
	for i := range rows {
		if rows[i].Doc == "" {
			rows[i].Doc = meanings[rows[i].Key]
		}
	}
}

// Markdown renders rows as a table.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| key | type | default | meaning |\n|---|---|---|---|\n")
	for _, r := range rows {
		def := r.Default
		if def != "" {
			def = "`" + strings.ReplaceAll(def, "|", `\|`) + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Key, r.Type, def, strings.ReplaceAll(r.Doc, "|", `\|`))
	}
	return b.String()
}

// Replace puts generated text between the lines "<!-- BEGIN name -->" and
// "<!-- END name -->" of doc.
func Replace(doc, name, text string) (string, error) {
	begin, end := "<!-- BEGIN "+name+" -->\n", "<!-- END "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q ... %q markers", strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + text + doc[j:], nil
}
