package truth

import (
	"bytes"
	"testing"
)

func TestWriteReadAndMerge(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	recs := []Record{
		{Kind: IndoorCharging, Episode: "e1", Device: "m1", Unit: "u1", StartMS: 1000, EndMS: 5000, Details: map[string]any{"plateau_w": 105.5, "charger": "lithium"}},
		{Kind: IndoorCharging, Episode: "e2", Device: "m1", Unit: "u1", StartMS: 3000, EndMS: 9000},
		{Kind: IndoorCharging, Episode: "e3", Device: "m2", Unit: "u2", StartMS: 2000, EndMS: 4000},
		{Kind: Overload, Episode: "e4", Device: "m1", Unit: "u1", StartMS: 100, EndMS: 200},
	}
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
	const want = `{"kind":"indoor_charging","episode":"e1","device":"m1","unit":"u1","start_ms":1000,"end_ms":5000,"start":"1970-01-01T08:00:01.000+08:00","end":"1970-01-01T08:00:05.000+08:00","details":{"charger":"lithium","plateau_w":105.5}}`
	if string(first) != want {
		t.Fatalf("first line\n got %s\nwant %s", first, want)
	}
	got, err := Read(&buf)
	if err != nil || len(got) != 4 {
		t.Fatalf("read %d records, %v", len(got), err)
	}
	eps := Episodes(got, IndoorCharging)
	if len(eps) != 2 || eps[0].Unit != "u1" || eps[0].EndMS != 9000 || eps[1].Unit != "u2" {
		t.Fatalf("merged episodes: %+v", eps)
	}
	if c := w.Counts(); len(c) != 2 || c[0] != (KindCount{IndoorCharging, 3}) || c[1] != (KindCount{Overload, 1}) {
		t.Fatalf("counts %+v", c)
	}
}
