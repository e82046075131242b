package detect

// taper5Flat reports whether a followed step's decline over one reading,
// dec, is too small to be a charger's taper (PhysicsParams.Taper5DecW): a
// charger leaving constant current loses watts between 5-min readings; a
// remainder of a few watts that a load left on holds (a compressor's sag,
// a fridge-held step) drifts down by tenths of a watt, which Taper5Rel of
// so small a remainder lets through.
func (s *physCore) taper5Flat(dec float32) bool {
	return s.p.Taper5DecW > 0 && float64(dec) < s.p.Taper5DecW
}
