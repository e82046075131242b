package configdoc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chargewatch/chargewatch/edge/config"
	"github.com/chargewatch/chargewatch/ingest/adapters/accounts"
	"github.com/chargewatch/chargewatch/ingest/adapters/shelly"
	"github.com/chargewatch/chargewatch/ingest/adapters/tasmota"
	"github.com/chargewatch/chargewatch/ingest/adapters/thingsboard"
	"github.com/chargewatch/chargewatch/ingest/adapters/zigbee2mqtt"
	"github.com/chargewatch/chargewatch/internal/server"
)

const operations = "../../docs/operations.md"

func comments(t *testing.T, dir string) map[string]map[string]string {
	t.Helper()
	c, err := Comments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func meanings(t *testing.T, path string) map[string]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Meanings(string(b))
}

// references builds the rows of the generated sections of
// docs/operations.md.
func references(t *testing.T) map[string][]Row {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	srv, err := server.LoadConfig(empty)
	if err != nil {
		t.Fatalf("the server's defaults do not load: %v", err)
	}
	// cw-edge fills in its defaults when it parses a config: parse the
	// smallest one.
	edge, err := config.Parse("edge.yaml", dir, []byte("gateway: gw-1\nmqtt: {url: \"tcp://127.0.0.1:1883\"}\nbuses: [{name: b, transport: tcp, address: \"127.0.0.1:502\", devices: [{id: m-1, profile: chint-ddsu666, slave: 1}]}]\n"))
	if err != nil {
		t.Fatalf("the smallest cw-edge config does not load: %v", err)
	}
	// Keys whose default is applied in code are stated in their doc
	// comments ("Default: X."), list entries included. The smallest config
	// sets gateway, mqtt.url and buses, and mqtt.username follows gateway:
	// their loaded values are the sample's, so they show the stated ones.
	edgeRows := Rows(*edge, "Config", comments(t, "../../edge/config"))
	for i, r := range edgeRows {
		switch r.Key {
		case "gateway", "mqtt.url", "mqtt.username":
			if r.Stated == "" {
				t.Errorf("cw-edge key %s: the sample config sets it, so its doc comment must state its default (\"Default: X.\")", r.Key)
			}
			edgeRows[i].Default = r.Stated
		}
	}
	var acct []Row
	for _, r := range Rows(accounts.Account{}, "Account", comments(t, "../../ingest/adapters/accounts")) {
		if r.Type == "section" || strings.ContainsRune(r.Key, '.') {
			continue // the adapter sections, below
		}
		r.Key = "accounts[]." + r.Key
		acct = append(acct, r)
	}
	for _, a := range []struct {
		name string
		v    any
		dir  string
	}{
		{"tasmota", tasmota.Config{}, "tasmota"}, {"shelly", shelly.Config{}, "shelly"},
		{"zigbee2mqtt", zigbee2mqtt.Config{}, "zigbee2mqtt"}, {"thingsboard", thingsboard.Config{}, "thingsboard"},
	} {
		for _, r := range Rows(a.v, "Config", comments(t, "../../ingest/adapters/"+a.dir)) {
			r.Key = "accounts[]." + a.name + "." + r.Key
			acct = append(acct, r)
		}
	}
	// Defaults the adapters apply in code that their comments do not
	// state in a form the generator reads (docs/adapters.md describes
	// them).
	for i := range acct {
		if d, ok := adapterDefaults[acct[i].Key]; ok {
			acct[i].Default = d
		}
	}
	srvRows := Rows(srv, "Config", comments(t, "../server"))
	Fill(srvRows, meanings(t, "../../docs/configuration.md"))
	Fill(edgeRows, meanings(t, "../../docs/edge.md"))
	return map[string][]Row{
		"server config":   srvRows,
		"cw-edge config":  edgeRows,
		"adapters config": acct,
	}
}

var adapterDefaults = map[string]string{
	"accounts[].username":      "required",
	"accounts[].gateway":       "required",
	"accounts[].password_hash": "none",
	"accounts[].tasmota.relay": "POWER",
}

// TestEveryKeyHasMeaningAndDefault: each key of the references has a
// meaning (doc comment, or the key table of docs/configuration.md or
// docs/edge.md) and a default (the loaded value, or stated in its doc
// comment).
func TestEveryKeyHasMeaningAndDefault(t *testing.T) {
	for name, rows := range references(t) {
		if m := Missing(rows); len(m) > 0 {
			t.Errorf("%s: %d keys lack a meaning or a default: give the struct field a doc comment (with \"Default: X.\" when the code applies the default):\n  %s",
				name, len(m), strings.Join(m, "\n  "))
		}
	}
}

// TestOperationsConfigReference fails when the configuration reference in
// docs/operations.md no longer matches the structs.
func TestOperationsConfigReference(t *testing.T) {
	b, err := os.ReadFile(operations)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	got := doc
	for name, rows := range references(t) {
		if got, err = Replace(got, name, Markdown(rows)); err != nil {
			t.Fatalf("docs/operations.md: %v", err)
		}
	}
	if got == doc {
		return
	}
	if os.Getenv("CHARGEWATCH_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(operations, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("the configuration reference in docs/operations.md is stale: run CHARGEWATCH_UPDATE_DOCS=1 go test ./internal/configdoc and review the diff")
}

func TestRows(t *testing.T) {
	type inner struct {
		// A is a.
		A string `yaml:"a"`
	}
	type cfg struct {
		// Sec holds things.
		Sec struct {
			// N counts.
			N int `yaml:"n"`
		} `yaml:"sec"`
		In   inner    `yaml:",inline"`
		Skip string   `yaml:"-"`
		List []inner  `yaml:"list"`
		Tags []string `yaml:"tags"`
	}
	var c cfg
	c.Sec.N = 3
	c.In.A = "x"
	rows := Rows(c, "cfg", map[string]map[string]string{"cfg": {"Sec": "Sec holds things."}, "cfg.Sec": {"N": "N counts."}, "inner": {"A": "A is a."}})
	got := Markdown(rows)
	for _, want := range []string{"| `sec` | section |  | Sec holds things. |", "| `sec.n` | integer | `3` | N counts. |", "| `a` | string | `x` | A is a. |", "| `list[].a` | string |", "| `tags` | list of string | `none` |"} {
		if !strings.Contains(got, want) {
			t.Errorf("lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Skip") || strings.Contains(got, "skip") {
		t.Error("yaml:\"-\" field listed")
	}
	for _, c := range []struct{ doc, def, meaning string }{
		{"DataBits is 8 or 7 (rtu). Default: 8.", "8", "DataBits is 8 or 7 (rtu)."},
		{"ServerName is the name to verify. Default: the host of mqtt.url.", "the host of mqtt.url", "ServerName is the name to verify."},
		{"Interval is how often. Default: inherited (defaults, then the bus). More.", "inherited (defaults, then the bus)", "Interval is how often. More."},
		{"BaseTopic is mqtt.base_topic; default zigbee2mqtt.", "", "BaseTopic is mqtt.base_topic; default zigbee2mqtt."},
		{"No default here.", "", "No default here."},
	} {
		if def, meaning := DocDefault(c.doc); def != c.def || meaning != c.meaning {
			t.Errorf("DocDefault(%q) = %q, %q; want %q, %q", c.doc, def, meaning, c.def, c.meaning)
		}
	}
	if got := clauseDefault("FullTopic is the plugs' FullTopic setting; default %prefix%/%topic%/."); got != "%prefix%/%topic%/" {
		t.Errorf("clauseDefault: %q", got)
	}
	if m := Missing([]Row{{Key: "a", Type: "section"}, {Key: "b", Default: "1"}, {Key: "c", Doc: "C."}, {Key: "d", Default: "1", Doc: "D."}}); strings.Join(m, ",") != "b (meaning),c (default)" {
		t.Errorf("Missing: %v", m)
	}
	if _, err := Replace("x", "y", "z"); err == nil {
		t.Error("Replace without markers")
	}
}
