package devices

import (
	"strings"
	"testing"
)

func TestTopicRoundTrip(t *testing.T) {
	for _, ch := range []Channel{ChannelTelemetry, ChannelEvent, ChannelStatus, ChannelCmd} {
		for _, ids := range [][2]string{{"gw-01", "meter.7_a"}, {"plug9", "plug9"}, {"0", "z"}, {strings.Repeat("a", 64), strings.Repeat("9", 64)}} {
			name := TopicFor(ids[0], ids[1], ch)
			want := "cw/v1/" + ids[0] + "/" + ids[1] + "/" + ch.String()
			if name != want {
				t.Errorf("TopicFor = %q, want %q", name, want)
			}
			got, err := ParseTopic(name)
			if err != nil {
				t.Fatalf("ParseTopic(%q): %v", name, err)
			}
			if got != (Topic{Gateway: ids[0], Device: ids[1], Channel: ch}) || got.String() != name {
				t.Errorf("ParseTopic(%q) = %+v", name, got)
			}
		}
	}
	for filter, ch := range map[string]string{FilterTelemetry: "telemetry", FilterEvent: "event", FilterStatus: "status"} {
		if filter != "cw/v1/+/+/"+ch {
			t.Errorf("filter %q", filter)
		}
	}
	if Channel(9).String() != "channel(9)" {
		t.Error(Channel(9).String())
	}
}

func TestParseTopicErrors(t *testing.T) {
	long := strings.Repeat("a", 65)
	cases := []struct {
		topic string
		msg   []string
	}{
		{"", []string{"does not start with", "cw/v1/"}},
		{"cw/v2/gw/dev/telemetry", []string{"does not start with"}},
		{"CW/v1/gw/dev/telemetry", []string{"does not start with"}},
		{"/cw/v1/gw/dev/telemetry", []string{"does not start with"}},
		{"cw/v1/gw/telemetry", []string{"4 levels", "not 5"}},
		{"cw/v1/gw", []string{"3 levels"}},
		{"cw/v1/", []string{"3 levels"}},
		{"cw/v1/gw/dev/x/telemetry", []string{"6 levels"}},
		{"cw/v1/gw/dev/telemetry/", []string{"6 levels"}},
		{"cw/v1/gw/dev/telemetry/extra", []string{"6 levels"}},
		{"cw/v1/gw/dev/metrics", []string{`unknown channel "metrics"`, "telemetry, event, status or cmd"}},
		{"cw/v1/gw/dev/Telemetry", []string{"unknown channel"}},
		{"cw/v1/gw/dev/", []string{`unknown channel ""`}},
		{"cw/v1/gw/dev/+", []string{"unknown channel"}},
		{"cw/v1/GW1/dev/telemetry", []string{`gateway id "GW1"`, "upper-case", "lower case"}},
		{"cw/v1/gw/Meter1/telemetry", []string{`device id "Meter1"`, "upper-case"}},
		{"cw/v1/.gw/dev/telemetry", []string{`gateway id ".gw"`, "starts with '.'"}},
		{"cw/v1/gw/-dev/telemetry", []string{"starts with '-'"}},
		{"cw/v1/gw/_dev/telemetry", []string{"starts with '_'"}},
		{"cw/v1//dev/telemetry", []string{`gateway id ""`, "empty"}},
		{"cw/v1/gw//telemetry", []string{`device id ""`, "empty"}},
		{"cw/v1/" + long + "/dev/telemetry", []string{"65 bytes", "more than 64"}},
		{"cw/v1/gw/" + long + "/telemetry", []string{"device id", "65 bytes"}},
		{"cw/v1/gw/de v/telemetry", []string{"contains ' '"}},
		{"cw/v1/gw/+/telemetry", []string{"contains '+'"}},
		{"cw/v1/gw/#/telemetry", []string{"contains '#'"}},
		{"cw/v1/gw/dév/telemetry", []string{"contains"}},
		{"cw/v1/gw/d\x00/telemetry", []string{"contains '\\x00'"}},
	}
	for _, c := range cases {
		_, err := ParseTopic(c.topic)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("ParseTopic(%q) = %v, want an *Error", c.topic, err)
			continue
		}
		checkError(t, c.topic, e, ReasonBadTopic, c.msg)
	}
	// Quoted topics are shortened.
	_, err := ParseTopic("cw/v1/" + strings.Repeat("x", 10000))
	if err == nil || len(err.Error()) > 400 {
		t.Errorf("long topic error: %d bytes", len(err.Error()))
	}
}

func TestValidID(t *testing.T) {
	for _, id := range []string{"a", "0", "gw-01", "a.b_c-d", strings.Repeat("z", 64), "9..."} {
		if !ValidID(id) {
			t.Errorf("ValidID(%q) = false", id)
		}
	}
	for _, id := range []string{"", "A", "aB", ".a", "-a", "_a", strings.Repeat("z", 65), "a/b", "a b", "a+", "a#", "é", "a\x00"} {
		if ValidID(id) {
			t.Errorf("ValidID(%q) = true", id)
		}
	}
}

func TestParseTopicAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseTopic("cw/v1/gw-1/dev-2/telemetry"); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParseTopic allocates %v times", n)
	}
}
