package output

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/simulators/city"
	"github.com/chargewatch/chargewatch/simulators/scenario"
	"github.com/chargewatch/chargewatch/simulators/sitegen"
)

func runInto(t *testing.T, f Format) (string, city.Stats) {
	sc := scenario.Default()
	g := scenario.DefaultGenerate()
	g.Buildings, g.StreetsPerDistrict, g.CommunitiesPerStreet, g.UnitsPerBuilding = 2, 1, 1, 4
	sc.Generate = &g
	sc.Hazards.SmokeTest = 3
	from := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	c, err := city.New(sc, sitegen.Generate(1, g, sc.Intervals), city.Options{Epoch: from})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	w, err := Create(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Run(context.Background(), city.RunOptions{From: from, To: from.Add(3 * time.Hour), StatusEvery: time.Hour,
		Emit: func(m *city.Message) error { return w.Write(m) }})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func TestCSV(t *testing.T) {
	dir, st := runInto(t, CSV)
	var rows int64
	for _, k := range devices.Kinds() {
		f, err := os.Open(filepath.Join(dir, "readings-"+k.String()+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		header := recs[0]
		if want := 9 + len(k.Vocabulary().Fields()); len(header) != want {
			t.Fatalf("%s header has %d columns, want %d", k, len(header), want)
		}
		rows += int64(len(recs) - 1)
		if len(recs) > 1 && k == devices.KindMeter {
			col := map[string]string{}
			for i, h := range header {
				col[h] = recs[1][i]
			}
			if col["power_w"] == "" || col["voltage_v"] == "" || !strings.HasPrefix(col["device"], "m-") {
				t.Errorf("first meter row %v", col)
			}
		}
	}
	if rows != st.Readings {
		t.Fatalf("%d reading rows, %d readings", rows, st.Readings)
	}
	ev, _ := os.ReadFile(filepath.Join(dir, "events.csv"))
	if n := bytes.Count(ev, []byte("\n")) - 1; int64(n) != st.Events {
		t.Fatalf("%d event rows, %d events", n, st.Events)
	}
}

func TestJSONL(t *testing.T) {
	dir, st := runInto(t, JSONL)
	f, err := os.Open(filepath.Join(dir, "readings.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := devices.NewDecoder(devices.DefaultLimits())
	sc := bufio.NewScanner(f)
	var n int64
	for sc.Scan() {
		var line struct {
			Kind    string          `json:"kind"`
			Device  string          `json:"device"`
			Reading json.RawMessage `json:"reading"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		k, err := devices.ParseKind(line.Kind)
		if err != nil {
			t.Fatal(err)
		}
		if _, errs, e := dec.DecodeTelemetry(k, line.Reading, time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC).UnixMilli(), nil, nil); e != nil || len(errs) > 0 {
			t.Fatalf("line %d: %s: %v %v", n+1, line.Reading, e, errs)
		}
		n++
	}
	if n != st.Readings {
		t.Fatalf("%d lines, %d readings", n, st.Readings)
	}
}
