package devices

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// randValue returns a valid random value for field f: uniformly spread,
// rounded to a few decimals, at the range ends, or tiny.
func randValue(r *rand.Rand, f Field) float64 {
	sp := f.Spec()
	switch sp.Type {
	case TypeBool:
		return float64(r.IntN(2))
	case TypeState:
		return float64(r.IntN(int(numPileStates)))
	case TypeInt:
		return sp.Min + float64(r.IntN(int(sp.Max-sp.Min)+1))
	}
	v := sp.Min + r.Float64()*(sp.Max-sp.Min)
	switch r.IntN(6) {
	case 0:
		return sp.Min
	case 1:
		return sp.Max
	case 2, 3:
		p := math.Pow(10, float64(r.IntN(4)))
		v = math.Round(v*p) / p
	case 4:
		if sp.Min <= 0 && sp.Max >= 1e-3 {
			v = r.Float64() * 1e-3
		}
	}
	return v
}

func randReading(r *rand.Rand, kind Kind) Reading {
	var rd Reading
	lo := testNow - (10 * day).Milliseconds()
	rd.TS = lo + r.Int64N(testNow+300000-lo+1)
	rd.Seq = r.Uint64N(maxSafeInt + 1)
	if r.IntN(3) == 0 {
		rd.Seq = r.Uint64N(1000)
	}
	rd.SeqReset = r.IntN(4) == 0
	fields := kind.Vocabulary().Fields()
	for rd.Set == 0 {
		for _, f := range fields {
			if r.IntN(2) == 0 {
				rd.Put(f, randValue(r, f))
			}
		}
	}
	return rd
}

// randText returns valid UTF-8 of at most max bytes, rich in characters
// that need escaping.
func randText(r *rand.Rand, max int) string {
	alphabet := []rune{'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\t', '\x00', '\x1f', '\x7f', 'é', '温', '🔥', '\u2028', '\ufffd', '\ufeff'}
	var b strings.Builder
	n := r.IntN(max + 1)
	for {
		c := alphabet[r.IntN(len(alphabet))]
		if b.Len()+utf8.RuneLen(c) > n {
			return b.String()
		}
		b.WriteRune(c)
	}
}

func randEvent(r *rand.Rand, kind Kind) Event {
	types := kind.Events()
	e := Event{
		TS:   testNow - r.Int64N((10 * day).Milliseconds()),
		Seq:  r.Uint64N(maxSafeInt + 1),
		Type: types[r.IntN(len(types))],
	}
	if r.IntN(2) == 0 {
		e.Port = 1 + r.IntN(64)
	}
	if r.IntN(2) == 0 {
		e.Code = randText(r, 20)
	}
	if r.IntN(2) == 0 {
		e.Detail = randText(r, MaxDetail)
	}
	return e
}

// TestRoundTripReadings encodes random valid readings of every kind, alone
// and in batches, and decodes them back to identical readings.
func TestRoundTripReadings(t *testing.T) {
	r := newRand(2026)
	d := NewDecoder(DefaultLimits())
	var buf []byte
	var got []Reading
	for _, kind := range Kinds() {
		for range 300 {
			n := 1 + r.IntN(40)
			if r.IntN(2) == 0 {
				n = 1
			}
			rs := make([]Reading, n)
			for i := range rs {
				rs[i] = randReading(r, kind)
			}
			buf = AppendTelemetry(buf[:0], rs)
			var errs []ItemError
			var err *Error
			got, errs, err = d.DecodeTelemetry(kind, buf, testNow, got[:0], nil)
			if err != nil || len(errs) != 0 {
				t.Fatalf("%s: decode of our own encoding failed: %v %v\n%s", kind, err, errs, buf)
			}
			if len(got) != n {
				t.Fatalf("%s: %d readings, want %d", kind, len(got), n)
			}
			for i := range rs {
				if got[i] != rs[i] {
					t.Fatalf("%s: reading %d changed in the round trip:\n got %+v\nwant %+v\n%s", kind, i, got[i], rs[i], buf)
				}
			}
		}
	}
}

func TestRoundTripEvents(t *testing.T) {
	r := newRand(7)
	d := NewDecoder(DefaultLimits())
	for _, kind := range Kinds() {
		for range 300 {
			want := randEvent(r, kind)
			buf := AppendEvent(nil, &want)
			got, errs, err := d.DecodeEvents(kind, buf, testNow, nil, nil)
			if err != nil || len(errs) != 0 || len(got) != 1 {
				t.Fatalf("%s: %v %v\n%s", kind, err, errs, buf)
			}
			if got[0] != want {
				t.Fatalf("%s: event changed:\n got %+v\nwant %+v\n%s", kind, got[0], want, buf)
			}
		}
	}
}

func TestRoundTripStatus(t *testing.T) {
	r := newRand(9)
	d := NewDecoder(DefaultLimits())
	opt := func() *int64 {
		if r.IntN(2) == 0 {
			return nil
		}
		v := r.Int64N(maxSafeInt + 1)
		return &v
	}
	for range 500 {
		want := Status{Online: r.IntN(2) == 0, UptimeS: opt(), QueueDepth: opt(), QueueAgeS: opt(), PollErrors: opt()}
		if want.Online || r.IntN(2) == 0 {
			want.TS = testNow - r.Int64N(1e12)
		}
		switch r.IntN(3) {
		case 1:
			want.Clock = ClockSynced
		case 2:
			want.Clock = ClockUnsynced
		}
		want.Version = randText(r, MaxVersion)
		buf := AppendStatus(nil, want)
		got, err := d.DecodeStatus(buf, testNow)
		if err != nil {
			t.Fatalf("%v\n%s", err, buf)
		}
		if !statusEqual(got, want) {
			t.Fatalf("status changed:\n got %s\nwant %s", AppendStatus(nil, got), buf)
		}
	}
}

func TestAppendString(t *testing.T) {
	cases := map[string]string{
		"":             `""`,
		"a\"b\\c/":     `"a\"b\\c/"`,
		"\n\t\x00\x1f": `"\u000a\u0009\u0000\u001f"`,
		"温🔥":           `"温🔥"`,
		"bad\xffutf8":  `"bad\ufffdutf8"`,
	}
	for in, want := range cases {
		if got := string(appendString(nil, in)); got != want {
			t.Errorf("appendString(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestEncodeShapes pins the encoder's output format.
func TestEncodeShapes(t *testing.T) {
	var rd Reading
	rd.TS, rd.Seq, rd.SeqReset = testNow, 7, true
	rd.Put(FieldPort, 2)
	rd.Put(FieldState, float64(PileFull))
	rd.Put(FieldVoltage, 230)
	rd.Put(FieldEnergy, 0.1)
	rd.Put(FieldPower, 1e20)
	rd.Put(FieldTemp, -0.000001)
	rd.PutBool(FieldFault, true)
	want := `{"ts":1767225600000,"seq":7,"seq_reset":true,"voltage_v":230,"power_w":1e+20,"energy_kwh":0.1,"temp_c":-1e-06,"port":2,"state":"full","fault":true}`
	if got := string(AppendReading(nil, &rd)); got != want {
		t.Errorf("AppendReading:\n got %s\nwant %s", got, want)
	}
	if got := string(AppendTelemetry(nil, []Reading{rd})); got != want {
		t.Errorf("AppendTelemetry of one reading is not a plain object: %s", got)
	}
	if got := string(AppendTelemetry(nil, []Reading{rd, rd})); got != "["+want+","+want+"]" {
		t.Errorf("AppendTelemetry of two: %s", got)
	}
	e := Event{TS: 5, Seq: 6, Type: EventChargeStop, Port: 3, Code: "E1", Detail: "x"}
	if got := string(AppendEvent(nil, &e)); got != `{"ts":5,"seq":6,"type":"charge_stop","port":3,"code":"E1","detail":"x"}` {
		t.Errorf("AppendEvent: %s", got)
	}
}
