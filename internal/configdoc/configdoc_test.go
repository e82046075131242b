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

// references builds the generated sections of docs/operations.md.
func references(t *testing.T) map[string]string {
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
	edgeRows := Rows(*edge, "Config", comments(t, "../../edge/config"))
	for i := range edgeRows {
		switch edgeRows[i].Key {
		case "gateway", "mqtt.url":
			edgeRows[i].Default = "required"
		case "mqtt.username":
			edgeRows[i].Default = "the gateway id"
		case "buses":
			edgeRows[i].Default = "required"
		case "queue.max_bytes":
			edgeRows[i].Default = "room for max_age of the devices' readings"
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
	srvRows := Rows(srv, "Config", comments(t, "../server"))
	Fill(srvRows, meanings(t, "../../docs/configuration.md"))
	Fill(edgeRows, meanings(t, "../../docs/edge.md"))
	return map[string]string{
		"server config":   Markdown(srvRows),
		"cw-edge config":  Markdown(edgeRows),
		"adapters config": Markdown(acct),
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
	for name, text := range references(t) {
		if got, err = Replace(got, name, text); err != nil {
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
	if _, err := Replace("x", "y", "z"); err == nil {
		t.Error("Replace without markers")
	}
}
