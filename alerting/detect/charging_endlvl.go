package detect

// endBelow is the power over a confirmed charge's reference under which,
// held for EndAfter, the charge ends: EndBelowW (a charger's float), or,
// with EndLevel, EndLevel times its level if that is higher: the charger's
// draw has gone (unplugged unseen, or its taper is over) while a load that
// came on during the charge holds the power over the reference, which only
// follows down-edges.
// EndLevelLong applies instead at intervals over 90 s.
func (s *physCore) endBelow(cfg *ChargingConfig, c *cand) float64 {
	lv := s.p.EndLevel
	if s.iv > 90 {
		lv = s.p.EndLevelLong
	}
	if lv <= 0 {
		return cfg.EndBelowW
	}
	return max(cfg.EndBelowW, lv*float64(c.lvl))
}
