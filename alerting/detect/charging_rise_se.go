package detect

import "math"

// The rise's precision (round 13, PhysicsParams RiseSEMax, VarRiseSEMax).
// The rise is judged at every reading for hours, and in a busy or noisy
// stretch its regression is uncertain: a flat lamp's (or a fridge cycle's)
// estimate wanders by several percent an hour and, at a t of 3.8-4.2,
// reads as a rise of 4-8 % an hour. A charger's rise of 1-5 % an hour
// reaches the t threshold only on a regression precise enough to show it;
// the rise path waits for one.

// riseVague reports whether a rise of r per hour with t statistic t is
// too uncertain for the rise path to confirm it: its standard error |r/t|
// is over RiseSEMax (VarRiseSEMax in the non-active power's detector).
func (s *physCore) riseVague(r, t float64) bool {
	se := s.p.RiseSEMax
	if s.nv {
		se = s.p.VarRiseSEMax
	}
	return se > 0 && t != 0 && math.Abs(r/t) > se
}
