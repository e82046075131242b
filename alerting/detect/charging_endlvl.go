package detect

// endBelow is the power over a confirmed charge's reference under which,
// held for EndAfter, the charge ends: EndBelowW (a charger's float), or,
// with EndLevel, EndLevel times its level if that is higher: the charger's
// draw has gone (unplugged unseen, or its taper is over) while a load that
// came on during the charge holds the power over the reference, which only
// follows down-edges.
func (s *physCore) endBelow(cfg *ChargingConfig, c *cand) float64 {
	if s.p.EndLevel <= 0 {
		return cfg.EndBelowW
	}
	return max(cfg.EndBelowW, s.p.EndLevel*float64(c.lvl))
}
