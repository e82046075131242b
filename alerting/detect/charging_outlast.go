package detect

// outlastOff reports whether the path "outlasted a cycler" is off at this
// reading interval (PhysicsParams.OutlastMaxIv: from 30 s to OutlastMaxIv
// s): there a cycler's run ends with a down-edge the detector sees, and a
// step of its size that outlasts the run is the cycler's own step carried
// on by another load.
func (s *physCore) outlastOff() bool {
	return s.p.OutlastMaxIv > 0 && s.iv >= 30 && float64(s.iv) <= s.p.OutlastMaxIv
}
