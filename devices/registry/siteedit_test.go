package registry

import (
	"errors"
	"strings"
	"testing"
)

func TestSiteEditor(t *testing.T) {
	const src = `# a site
version: 1

gateways:
  - {id: gw-1, building: b-1, description: "一楼弱电井, RS485"}  # keep me
  - id: gw-2
    building: b-1   # block style
    name: 'it''s gw-2'

devices:
  # first unit
  - {id: m-1, kind: meter, model: DELIXI DDSU606, gateway: gw-1, unit: u-1, rated_current_a: 32}
  - {id: m-2, kind: meter, gateway: gw-2, building: b-1, rated_current_a: 32}
  - id: m-3
    kind: meter
    gateway: gw-2
    unit: u-2
    rated_current_a: 32
people: []
`
	for _, tc := range []struct {
		name string
		edit func(e *siteEditor) error
		want string // the lines that change, as "-old\n+new" pairs checked by substring
		have []string
		lack []string
	}{
		{name: "set existing flow value after unicode", edit: func(e *siteEditor) error {
			en, _, err := e.entry("gateways", "gw-1")
			if err != nil {
				return err
			}
			return e.set(en, "description", "二楼")
		}, have: []string{`  - {id: gw-1, building: b-1, description: "二楼"}  # keep me`}},
		{name: "set id and model", edit: func(e *siteEditor) error {
			en, _, err := e.entry("devices", "m-1")
			if err != nil {
				return err
			}
			if err := e.set(en, "id", "m-1b"); err != nil {
				return err
			}
			return e.set(en, "model", "CHINT DDSU666")
		}, have: []string{`  - {id: m-1b, kind: meter, model: CHINT DDSU666, gateway: gw-1, unit: u-1, rated_current_a: 32}`, "  # first unit\n"}},
		{name: "add key to flow entry", edit: func(e *siteEditor) error {
			en, _, err := e.entry("devices", "m-2")
			if err != nil {
				return err
			}
			return e.set(en, "model", "true")
		}, have: []string{`rated_current_a: 32, model: "true"}`}},
		{name: "add key to block entry", edit: func(e *siteEditor) error {
			en, _, err := e.entry("devices", "m-3")
			if err != nil {
				return err
			}
			return e.set(en, "model", "x: y")
		}, have: []string{"    rated_current_a: 32\n    model: \"x: y\"\npeople: []"}},
		{name: "quoted value", edit: func(e *siteEditor) error {
			en, _, err := e.entry("gateways", "gw-2")
			if err != nil {
				return err
			}
			return e.set(en, "name", "gw two")
		}, have: []string{"    name: gw two\n"}, lack: []string{"it''s"}},
		{name: "rename unit to building, flow", edit: func(e *siteEditor) error {
			en, _, err := e.entry("devices", "m-1")
			if err != nil {
				return err
			}
			return e.rename(en, "unit", "building", "b-2")
		}, have: []string{"gateway: gw-1, building: b-2, rated_current_a: 32}"}},
		{name: "rename building to unit, block", edit: func(e *siteEditor) error {
			en, _, err := e.entry("devices", "m-3")
			if err != nil {
				return err
			}
			return e.rename(en, "unit", "building", "b-9")
		}, have: []string{"    gateway: gw-2\n    building: b-9\n    rated_current_a: 32\n"}},
		{name: "delete flow entry", edit: func(e *siteEditor) error {
			_, i, err := e.entry("devices", "m-2")
			if err != nil {
				return err
			}
			return e.deleteEntry("devices", i)
		}, have: []string{"rated_current_a: 32}\n  - id: m-3\n"}, lack: []string{"m-2"}},
		{name: "delete block entry", edit: func(e *siteEditor) error {
			_, i, err := e.entry("gateways", "gw-2")
			if err != nil {
				return err
			}
			return e.deleteEntry("gateways", i)
		}, have: []string{"# keep me\n\ndevices:\n"}, lack: []string{"id: gw-2", "block style"}},
		{name: "missing entry", edit: func(e *siteEditor) error {
			_, _, err := e.entry("devices", "m-9")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := newSiteEditor("site.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			err = tc.edit(e)
			if tc.have == nil {
				if err == nil || !strings.Contains(err.Error(), `no device entry with id "m-9"`) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			out, err := e.result()
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.have {
				if !strings.Contains(string(out), h) {
					t.Errorf("result lacks %q:\n%s", h, out)
				}
			}
			for _, l := range tc.lack {
				if strings.Contains(string(out), l) {
					t.Errorf("result has %q:\n%s", l, out)
				}
			}
			// Everything else is untouched: the comment lines survive.
			for _, keep := range []string{"# a site\n", "# first unit\n", "people: []\n"} {
				if !strings.Contains(string(out), keep) {
					t.Errorf("lost %q", keep)
				}
			}
		})
	}
}

func TestSiteEditorRefusesMultiline(t *testing.T) {
	src := "devices:\n  - id: m-1\n    model: >\n      folded\n      text\n"
	e, err := newSiteEditor("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	en, _, err := e.entry("devices", "m-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.set(en, "model", "x"); !errors.Is(err, errHandEdit) {
		t.Fatalf("set of a folded scalar = %v, want errHandEdit", err)
	}
}

func TestYAMLScalar(t *testing.T) {
	for in, want := range map[string]string{
		"m-17": "m-17", "DELIXI DDSU606": "DELIXI DDSU606", "123": `"123"`, "true": `"true"`, "null": `"null"`,
		"a: b": `"a: b"`, "": `""`, "大塘": `"大塘"`, "x #y": `"x #y"`, "1e3": `"1e3"`, "-x": `"-x"`,
	} {
		if got := yamlScalar(in); got != want {
			t.Errorf("yamlScalar(%q) = %s, want %s", in, got, want)
		}
	}
}
