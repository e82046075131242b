package devices

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated sections of docs/protocol.md")

const protocolDoc = "../docs/protocol.md"

// docNow is the server clock for the doc's examples: one minute after the
// ts they use (1767225600000, 2026-01-01T00:00:00Z).
const docNow = testNow + 60_000

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// fieldTable renders the field vocabulary from fieldSpecs and vocabularies.
func fieldTable() string {
	var b strings.Builder
	b.WriteString("| Field | Unit | Type | Range |")
	for _, k := range Kinds() {
		b.WriteString(" " + k.String() + " |")
	}
	b.WriteString(" Meaning |\n|---|---|---|---|")
	for range Kinds() {
		b.WriteString(":-:|")
	}
	b.WriteString("---|\n")
	for f := Field(0); f < NumFields; f++ {
		sp := f.Spec()
		unit := sp.Unit
		if unit == "" {
			unit = "–"
		}
		var rng string
		switch sp.Type {
		case TypeBool:
			rng = "`true`, `false`"
		case TypeState:
			var names []string
			for s := PileIdle; s < numPileStates; s++ {
				names = append(names, "`"+s.String()+"`")
			}
			rng = strings.Join(names, ", ")
		default:
			rng = num(sp.Min) + " to " + num(sp.Max)
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |", sp.Name, unit, sp.Type, rng)
		for _, k := range Kinds() {
			if k.Vocabulary().Has(f) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		fmt.Fprintf(&b, " %s |\n", sp.Doc)
	}
	return b.String()
}

// eventTable renders the event types and the kinds that may send them.
func eventTable() string {
	var b strings.Builder
	b.WriteString("| Event type |")
	for _, k := range Kinds() {
		b.WriteString(" " + k.String() + " |")
	}
	b.WriteString(" Meaning |\n|---|")
	for range Kinds() {
		b.WriteString(":-:|")
	}
	b.WriteString("---|\n")
	for _, t := range EventTypes() {
		fmt.Fprintf(&b, "| `%s` |", t)
		for _, k := range Kinds() {
			if k.Allows(t) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("   |")
			}
		}
		fmt.Fprintf(&b, " %s |\n", t.Doc())
	}
	return b.String()
}

// limitsTable renders DefaultLimits and the fixed bounds of the contract.
func limitsTable() string {
	l := DefaultLimits()
	rows := [][2]string{
		{"Payload size", fmt.Sprintf("at most %d bytes (%d KiB)", l.MaxPayload, l.MaxPayload>>10)},
		{"Readings or events in one message", fmt.Sprintf("at most %d", l.MaxReadings)},
		{"`ts` of a reading or event, in the past", "at most " + fmtDur(l.MaxPast) + " before the server's clock"},
		{"`ts` in the future", "at most " + fmtDur(l.MaxFuture) + " after the server's clock"},
		{"`ts` of a status, in the past", "no limit (a retained status is as old as its last publish)"},
		{"`seq`, status counters", fmt.Sprintf("whole numbers from 0 to %d (2^53-1)", int64(maxSafeInt))},
		{"Event `code`, event `detail`", fmt.Sprintf("at most %d bytes each (UTF-8)", MaxDetail)},
		{"Status `version`", fmt.Sprintf("at most %d bytes", MaxVersion)},
		{"Nesting inside a value", fmt.Sprintf("at most %d levels of arrays and objects (no field has any)", maxSkipDepth)},
		{"Gateway and device ids", "1 to 64 characters, see [IDs](#ids)"},
	}
	var b strings.Builder
	b.WriteString("| Limit | Value |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	return b.String()
}

func readDoc(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(protocolDoc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section returns the text between <!-- name:begin --> and <!-- name:end -->
// and its position.
func section(t *testing.T, doc, name string) (text string, start, end int) {
	t.Helper()
	begin, stop := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	start = strings.Index(doc, begin)
	end = strings.Index(doc, stop)
	if start < 0 || end < start {
		t.Fatalf("%s: no section between %q and %q", protocolDoc, begin, stop)
	}
	start += len(begin)
	return doc[start:end], start, end
}

func checkGenerated(t *testing.T, name string, gen func() string) {
	doc := readDoc(t)
	got, start, end := section(t, doc, name)
	want := gen()
	if got == want {
		return
	}
	if *update {
		if err := os.WriteFile(protocolDoc, []byte(doc[:start]+want+doc[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the %s section of %s", name, protocolDoc)
		return
	}
	t.Errorf("the %s section of %s differs from the code; run go test ./devices -run TestProtocolDoc -update\n--- doc\n%s\n--- code\n%s", name, protocolDoc, got, want)
}

// TestProtocolDocFieldTable pins the field table of docs/protocol.md to
// fieldSpecs and the kinds' vocabularies.
func TestProtocolDocFieldTable(t *testing.T) { checkGenerated(t, "fields", fieldTable) }

// TestProtocolDocEventTable pins the event types per kind.
func TestProtocolDocEventTable(t *testing.T) { checkGenerated(t, "events", eventTable) }

// TestProtocolDocLimits pins the limits table.
func TestProtocolDocLimits(t *testing.T) { checkGenerated(t, "limits", limitsTable) }

// TestProtocolDocReasons checks that every rejection reason is explained in
// the reasons table.
func TestProtocolDocReasons(t *testing.T) {
	text, _, _ := section(t, readDoc(t), "reasons")
	for _, r := range Reasons {
		if !strings.Contains(text, "| `"+string(r)+"` |") {
			t.Errorf("reason %s is not in the reasons table of %s", r, protocolDoc)
		}
	}
	if n := strings.Count(text, "\n| `"); n != len(Reasons) {
		t.Errorf("the reasons table has %d rows, Reasons has %d", n, len(Reasons))
	}
}

// TestProtocolDocStatusKeys checks that every status key is in the status
// table.
func TestProtocolDocStatusKeys(t *testing.T) {
	text, _, _ := section(t, readDoc(t), "status")
	full := Status{Online: true, TS: 1, UptimeS: new(int64), QueueDepth: new(int64), QueueAgeS: new(int64), PollErrors: new(int64), Clock: ClockSynced, Version: "v"}
	var m map[string]any
	if err := json.Unmarshal(AppendStatus(nil, full), &m); err != nil {
		t.Fatal(err)
	}
	for key := range m {
		if !strings.Contains(text, "| `"+key+"` |") {
			t.Errorf("status key %s is not in the status table", key)
		}
	}
	if n := strings.Count(text, "\n| `"); n != len(m) {
		t.Errorf("the status table has %d rows, a status has %d keys", n, len(m))
	}
}

var exampleRE = regexp.MustCompile("(?s)<!-- example: ([a-z ]+?)(?: rejects ([a-z_]+))? -->\n```json\n(.*?)```")

// TestProtocolDocExamples decodes every example payload of the doc: valid
// ones must decode without any error, the others with the reason they name.
// Every kind needs a telemetry and an event example.
func TestProtocolDocExamples(t *testing.T) {
	doc := readDoc(t)
	if n := strings.Count(doc, "<!-- example:"); n != len(exampleRE.FindAllString(doc, -1)) {
		t.Fatalf("%d example markers but %d are followed by a ```json block", n, len(exampleRE.FindAllString(doc, -1)))
	}
	covered := map[string]bool{}
	d := NewDecoder(DefaultLimits())
	for _, m := range exampleRE.FindAllStringSubmatch(doc, -1) {
		what, want, payload := strings.Fields(m[1]), Reason(m[2]), []byte(m[3])
		name := m[1]
		if want != "" {
			name += " rejects " + string(want)
		}
		t.Run(name, func(t *testing.T) {
			var errs []ItemError
			var err *Error
			kept := 0
			switch {
			case what[0] == "status" && len(what) == 1:
				var st Status
				st, err = d.DecodeStatus(payload, docNow)
				if err == nil {
					kept = 1
					covered[fmt.Sprint("status online=", st.Online)] = true
				}
			case len(what) == 2 && (what[0] == "telemetry" || what[0] == "event"):
				kind, perr := ParseKind(what[1])
				if perr != nil {
					t.Fatal(perr)
				}
				if what[0] == "telemetry" {
					var rs []Reading
					rs, errs, err = d.DecodeTelemetry(kind, payload, docNow, nil, nil)
					kept = len(rs)
				} else {
					var evs []Event
					evs, errs, err = d.DecodeEvents(kind, payload, docNow, nil, nil)
					kept = len(evs)
				}
			default:
				t.Fatalf("unknown example marker %q", m[1])
			}
			if want == "" {
				if err != nil || len(errs) != 0 || kept == 0 {
					t.Fatalf("example is rejected: %v %v\n%s", err, errs, payload)
				}
				covered[m[1]] = true
				return
			}
			if err == nil && len(errs) == 0 {
				t.Fatalf("example is accepted, want %s", want)
			}
			got := []Reason{}
			if err != nil {
				got = append(got, err.Reason)
			}
			for _, ie := range errs {
				got = append(got, ie.Err.Reason)
			}
			if !slices.Contains(got, want) {
				t.Fatalf("example rejected for %v, want %s", got, want)
			}
		})
	}
	for _, k := range Kinds() {
		for _, ch := range []string{"telemetry", "event"} {
			if !covered[ch+" "+k.String()] {
				t.Errorf("%s has no valid %s example for a %s", protocolDoc, ch, k)
			}
		}
	}
	for _, online := range []bool{true, false} {
		if !covered[fmt.Sprint("status online=", online)] {
			t.Errorf("%s has no status example with online=%v", protocolDoc, online)
		}
	}
	if !strings.Contains(doc, "```json\n"+string(LastWill)+"\n```") {
		t.Errorf("%s does not show the Last Will payload %s", protocolDoc, LastWill)
	}
}
