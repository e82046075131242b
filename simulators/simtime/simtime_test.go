package simtime

import (
	"testing"
	"time"
)

func TestDays(t *testing.T) {
	tm := time.Date(2026, 1, 12, 0, 0, 0, 0, Zone) // a Monday
	d := DayOf(tm.UnixMilli())
	if DayStart(d) != tm.UnixMilli() {
		t.Fatalf("DayStart(%d) = %d, want %d", d, DayStart(d), tm.UnixMilli())
	}
	if DayOf(tm.UnixMilli()-1) != d-1 {
		t.Fatal("the millisecond before midnight belongs to the previous day")
	}
	if w := Weekday(d); w != time.Monday {
		t.Fatalf("weekday %v, want Monday", w)
	}
	if m := Month(d); m != time.January {
		t.Fatalf("month %v", m)
	}
	if h := HourOf(tm.UnixMilli() + 19*Hour + 30*Minute); h != 19.5 {
		t.Fatalf("HourOf = %v, want 19.5", h)
	}
	if DayOf(-1) != 0 || DayOf(-offset) != 0 || DayOf(-offset-1) != -1 {
		t.Fatal("DayOf around the epoch")
	}
}
