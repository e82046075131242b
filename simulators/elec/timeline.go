package elec

import (
	"math"
	"slices"

	"github.com/chargewatch/chargewatch/simulators/simtime"
)

// Source appends to dst the segments that start on Shanghai day d, in any
// order. It must be a pure function of d. A segment may run into the next
// day but no further: the timeline cuts it at the end of the day after its
// start day.
type Source func(d int64, dst []Segment) []Segment

// Timeline is the draw of one unit (or any group of loads) over time. It
// holds the segments of two days (the day asked about and the one before,
// whose segments may run past midnight) and the energy drawn since its
// epoch, computed day by day and kept.
//
// A Timeline is not safe for concurrent use. Asking about times in order is
// cheapest; going back to an earlier day regenerates that day's segments.
type Timeline struct {
	src    Source
	epoch  int64
	e0     float64 // Wh at the epoch
	d0     int64   // day of the epoch
	loaded int64   // day whose window is in segs
	segs   []Segment
	from   int64     // start of the loaded window's integration: the day start or the epoch
	ends   []int64   // ends of segs, sorted
	done   []float64 // done[i]: Wh in [from, day end) of the segments with the i smallest ends
	acc    []float64 // acc[k]: Wh from the epoch to the start of day d0+k (acc[0] = 0)

	// The segments running at lastT, by index (so in start order), and the
	// first segment not yet started then: readings come in time order, so
	// At and EnergyWh look only at these instead of the whole window.
	lastT int64
	next  int
	act   []int
}

// NewTimeline returns a timeline drawing from src whose energy counter reads
// e0Wh at epoch (Unix ms). Energy before the epoch reads e0Wh.
func NewTimeline(src Source, epoch int64, e0Wh float64) *Timeline {
	d0 := simtime.DayOf(epoch)
	return &Timeline{src: src, epoch: epoch, e0: e0Wh, d0: d0, loaded: d0 - 10, acc: []float64{0}}
}

// Epoch returns the time the energy counter starts from.
func (tl *Timeline) Epoch() int64 { return tl.epoch }

// load makes segs hold the segments of days d-1 and d, sorted by start.
func (tl *Timeline) load(d int64) {
	if tl.loaded == d {
		return
	}
	tl.segs = tl.segs[:0]
	for _, dd := range [2]int64{d - 1, d} {
		n := len(tl.segs)
		tl.segs = tl.src(dd, tl.segs)
		limit := simtime.DayStart(dd + 2)
		for i := n; i < len(tl.segs); i++ {
			if tl.segs[i].End > limit {
				tl.segs[i].End = limit
			}
		}
	}
	slices.SortStableFunc(tl.segs, func(a, b Segment) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	tl.loaded = d
	tl.lastT, tl.next, tl.act = math.MinInt64, 0, tl.act[:0]
	// Prefix sums of the energy of finished segments, by end time, so that
	// EnergyWh only integrates the segments still running.
	tl.from = max(tl.epoch, simtime.DayStart(d))
	dayEnd := simtime.DayStart(d + 1)
	type ended struct {
		end int64
		wh  float64
	}
	es := make([]ended, 0, len(tl.segs))
	for i := range tl.segs {
		s := &tl.segs[i]
		if s.End > tl.from {
			es = append(es, ended{s.End, s.Wh(tl.from, dayEnd)})
		}
	}
	slices.SortStableFunc(es, func(a, b ended) int {
		switch {
		case a.end < b.end:
			return -1
		case a.end > b.end:
			return 1
		}
		return 0
	})
	tl.ends = tl.ends[:0]
	tl.done = append(tl.done[:0], 0)
	for _, e := range es {
		tl.ends = append(tl.ends, e.end)
		tl.done = append(tl.done, tl.done[len(tl.done)-1]+e.wh)
	}
}

// Segments returns the loaded segments active at t (valid until the next
// call on the timeline).
func (tl *Timeline) Segments(t int64, dst []Segment) []Segment {
	tl.load(simtime.DayOf(t))
	for i := range tl.segs {
		s := &tl.segs[i]
		if s.Start > t {
			break
		}
		if t < s.End {
			dst = append(dst, *s)
		}
	}
	return dst
}

// advance makes act hold the loaded segments running at t (Start <= t <
// End), in index order: the segments a loop over the window in order would
// find, so sums over them come out bit for bit the same.
func (tl *Timeline) advance(t int64) {
	if t < tl.lastT {
		tl.next, tl.act = 0, tl.act[:0]
	}
	k := 0
	for _, i := range tl.act {
		if tl.segs[i].End > t {
			tl.act[k] = i
			k++
		}
	}
	tl.act = tl.act[:k]
	for ; tl.next < len(tl.segs) && tl.segs[tl.next].Start <= t; tl.next++ {
		if tl.segs[tl.next].End > t {
			tl.act = append(tl.act, tl.next)
		}
	}
	tl.lastT = t
}

// At returns the active (W) and non-active (var) power at t.
func (tl *Timeline) At(t int64) (p, n float64) {
	tl.load(simtime.DayOf(t))
	tl.advance(t)
	for _, i := range tl.act {
		sp, sn := tl.segs[i].P(t)
		p += sp
		n += sn
	}
	return p, n
}

// window integrates the loaded window over [tl.from, b), b within the day.
func (tl *Timeline) window(b int64) float64 {
	// Segments that ended by b count whole (precomputed); the running ones
	// are integrated up to b.
	n, _ := slices.BinarySearch(tl.ends, b+1)
	e := tl.done[n]
	tl.advance(b)
	for _, i := range tl.act {
		if s := &tl.segs[i]; s.Start < b && s.End > tl.from {
			e += s.Wh(tl.from, b)
		}
	}
	return e
}

// EnergyWh returns the energy counter at t: e0 plus what was drawn since the
// epoch.
func (tl *Timeline) EnergyWh(t int64) float64 {
	if t <= tl.epoch {
		return tl.e0
	}
	d := simtime.DayOf(t)
	for k := len(tl.acc) - 1; tl.d0+int64(k) < d; k = len(tl.acc) - 1 {
		dk := tl.d0 + int64(k)
		tl.load(dk)
		tl.acc = append(tl.acc, tl.acc[k]+tl.window(simtime.DayStart(dk+1)))
	}
	tl.load(d)
	return tl.e0 + tl.acc[d-tl.d0] + tl.window(t)
}
