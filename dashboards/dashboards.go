// Package dashboards holds chargewatch's Grafana dashboards for the fire
// brigade and for operators, as Go code built with the Grafana Foundation
// SDK. The JSON that Grafana loads (json/*.json, provisioned by
// provisioning/dashboards/chargewatch.yaml) is generated from this code by
//
//	go generate ./dashboards
//
// and a test fails when the committed JSON differs from what the code
// produces. What the dashboards read from InfluxDB is named in schema.go;
// docs/dashboards.md describes every panel.
package dashboards

//lint:file-ignore SA1019 The classic dashboard model (dashboard.Dashboard, schema v1) is what Grafana 9 to 12 provision from files and import; the SDK marks it deprecated in favour of the v2 schema, which needs Grafana 12 with its new dashboard API.

//go:generate go run ./cmd/dashgen

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Board is one dashboard and the file it is generated into.
type Board struct {
	File  string // file name in json/
	Build func() *dashboard.DashboardBuilder
}

// JSONDir is where the generated dashboards live, relative to this package.
const JSONDir = "json"

// All returns every dashboard, in the order of docs/dashboards.md.
func All() []Board {
	return []Board{
		{"city.json", City},
		{"building.json", Building},
		{"device.json", Device},
		{"accountability.json", Accountability},
		{"ingestion.json", Ingestion},
	}
}

// Render returns the dashboard's JSON as committed: indented, with a final
// newline.
func (b Board) Render() ([]byte, error) {
	d, err := b.Build().Build()
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", b.File, err)
	}
	js, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("dashboard %s: %w", b.File, err)
	}
	return append(unescapeHTML(js), '\n'), nil
}

// unescapeHTML turns the \u003c, \u003e and \u0026 escapes that encoding/json
// writes for <, > and & back into the characters, so that queries read as
// written. Other escapes are copied as they are.
func unescapeHTML(js []byte) []byte {
	out := make([]byte, 0, len(js))
	for i := 0; i < len(js); i++ {
		c := js[i]
		if c != '\\' || i+1 >= len(js) {
			out = append(out, c)
			continue
		}
		if js[i+1] == 'u' && i+5 < len(js) {
			switch string(js[i+2 : i+6]) {
			case "003c":
				out = append(out, '<')
				i += 5
				continue
			case "003e":
				out = append(out, '>')
				i += 5
				continue
			case "0026":
				out = append(out, '&')
				i += 5
				continue
			}
		}
		out = append(out, c, js[i+1]) // an escape pair, copied whole
		i++
	}
	return out
}
