// Package simtime holds the simulators' calendar arithmetic on Unix
// milliseconds. Simulated life follows Asia/Shanghai wall time (UTC+8, no
// daylight saving since 1991), so a "day" is a Shanghai calendar day and
// evening is evening in China whatever the host's zone.
package simtime

import "time"

// Millisecond durations.
const (
	Second int64 = 1000
	Minute       = 60 * Second
	Hour         = 60 * Minute
	Day          = 24 * Hour
	offset       = 8 * Hour // UTC+8
)

// Zone is Asia/Shanghai as a fixed zone.
var Zone = time.FixedZone("CST", 8*3600)

// DayOf returns the index of the Shanghai calendar day holding ms (days
// since 1970-01-01 in Shanghai).
func DayOf(ms int64) int64 {
	x := ms + offset
	d := x / Day
	if x%Day < 0 {
		d--
	}
	return d
}

// DayStart returns the first millisecond of Shanghai day d.
func DayStart(d int64) int64 { return d*Day - offset }

// At returns the time of day h (hours, may exceed 24) on day d.
func At(d int64, h float64) int64 { return DayStart(d) + int64(h*float64(Hour)) }

// HourOf returns the Shanghai time of day of ms in hours, in [0, 24).
func HourOf(ms int64) float64 {
	return float64(ms-DayStart(DayOf(ms))) / float64(Hour)
}

// Weekday returns the weekday of day d.
func Weekday(d int64) time.Weekday {
	return time.Weekday((d%7 + 7 + 4) % 7) // 1970-01-01 was a Thursday
}

// Weekend reports whether day d is a Saturday or Sunday.
func Weekend(d int64) bool {
	w := Weekday(d)
	return w == time.Saturday || w == time.Sunday
}

// Month returns the month of day d.
func Month(d int64) time.Month {
	return time.UnixMilli(DayStart(d)).In(Zone).Month()
}

// Time converts ms to a time.Time in Shanghai.
func Time(ms int64) time.Time { return time.UnixMilli(ms).In(Zone) }

// Format formats ms as RFC 3339 with milliseconds in Shanghai time.
func Format(ms int64) string { return Time(ms).Format("2006-01-02T15:04:05.000Z07:00") }
