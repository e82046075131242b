package detect

// cyclerHold returns how many times the longest run of a load the unit
// runs for minutes at a time (a fridge compressor) a step of its size
// must hold before the fast confirmation (the path "outlasted a
// cycler"): PhysicsParams.CyclerHoldLong at intervals over 90 s when it
// is over 0, CyclerHold otherwise.
//
// At 5-min readings a compressor's run is two to four readings, its
// start-up peak invisible, and the fast test itself takes eight readings
// (40 minutes): CyclerHold (2.5 runs of 10-20 minutes) has passed by then
// for most fridges, so the path confirmed any quiet step of the fridge's
// size (on the wide pool 15 alerts true for 8 false, round 25c). A
// compressor's run is bounded and its cycle periodic; a charger's step
// lasts hours: a step that outlasted several of the cycler's longest runs
// is not one of its runs.
func (s *physCore) cyclerHold() float64 {
	if s.iv > 90 && s.p.CyclerHoldLong > 0 {
		return s.p.CyclerHoldLong
	}
	return s.p.CyclerHold
}
