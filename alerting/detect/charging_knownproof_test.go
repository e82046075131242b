package detect

import "testing"

// TestKnownProofDefault pins KnownProof on since round 44a at 3 (over 90
// s the proof count is taught; the fast known-charger path asks for one)
// at intervals of 150 s or more only (5 min: at 1 min it tied on cities
// 1153-1184, -4 sessions / -4 false alarms), KnownProofMin 0 (1).
func TestKnownProofDefault(t *testing.T) {
	p := DefaultPhysicsParams()
	if p.KnownProof != 3 || p.KnownProofMin != 0 || p.KnownProofMinIv != 150 || p.KnownProofMaxIv != 0 {
		t.Errorf("KnownProof %v, KnownProofMin %v, KnownProofMinIv %v, KnownProofMaxIv %v; want 3, 0, 150, 0",
			p.KnownProof, p.KnownProofMin, p.KnownProofMinIv, p.KnownProofMaxIv)
	}
}

// TestKnownProofTeaches: a charge that ends tapered teaches its slot
// "charger", and at 5-min readings with bit 1 also a proof count (MemProof
// teaches none there); not the var core's, not where the other core knows
// the size as no charger, not with KnownProof off or under
// KnownProofMinIv, with bit 8 not the charge whose session the score
// confirmed; at 1 min bit 1 teaches nothing (MemProof off there).
func TestKnownProofTeaches(t *testing.T) {
	for _, c := range []struct {
		name  string
		bits  float64
		minIv float64
		iv    float32
		nv    bool
		peer  bool
		path  uint8
		want  uint8
	}{
		{"off", 0, 150, 300, false, false, pathKnown, 0},
		{"5 min", 1, 150, 300, false, false, pathKnown, 1},
		{"5 min, the default", 3, 150, 300, false, false, pathRise, 1},
		{"5 min, the score's session", 1, 150, 300, false, false, pathScore, 1},
		{"5 min, the score's session, bit 8", 1 | 8, 150, 300, false, false, pathScore, 0},
		{"5 min, bit 8, the rise", 1 | 8, 150, 300, false, false, pathRise, 1},
		{"5 min, the var core", 1, 150, 300, true, false, pathKnown, 0},
		{"5 min, the other core disagrees", 1, 150, 300, false, true, pathKnown, 0},
		{"5 min, under KnownProofMinIv", 1, 400, 300, false, false, pathKnown, 0},
		{"1 min", 1, 45, 60, false, false, pathKnown, 0},
	} {
		p := DefaultPhysicsParams()
		p.MemProof = 0
		p.KnownProof, p.KnownProofMinIv = c.bits, c.minIv
		peer := &physCore{p: &p, iv: c.iv, nv: !c.nv}
		if c.peer {
			peer.mem[0] = sig{w: 150, other: 5, cycles: 5, maxRun: 20}
		}
		s, k := endTaught(&p, c.iv, c.nv, c.path, peer, sig{})
		if k < 0 || s.mem[k].charger != 1 {
			t.Fatalf("%s: the charge taught no charger (slot %d)", c.name, k)
		}
		if s.mem[k].proof != c.want {
			t.Errorf("%s: proof %d, want %d", c.name, s.mem[k].proof, c.want)
		}
	}
}

// TestKnownProofPaths: a quiet, clean step of a size the memory counts as
// a charger (charger 5, other 1: the fast known-charger path's reading;
// charger 2, other 0: the held path's too) is confirmed by the fast
// known-charger path at 5-min readings with KnownProof bit 2 only when the
// slot has a proof count of KnownProofMin (0: 1); bit 4 asks the same of
// the held path; neither applies under KnownProofMinIv, nor at 1 min by
// default (150 s).
func TestKnownProofPaths(t *testing.T) {
	for _, c := range []struct {
		name    string
		bits    float64
		min     float64
		iv      float32
		charger uint8
		other   uint8
		proof   uint8
		path    uint8 // the path that confirms it, 0 none
	}{
		{"off", 0, 0, 300, 5, 1, 0, pathKnown},
		{"fast, no proof", 2, 0, 300, 5, 1, 0, 0},
		{"fast, proof 1", 2, 0, 300, 5, 1, 1, pathKnown},
		{"fast, proof 1, KnownProofMin 2", 2, 2, 300, 5, 1, 1, 0},
		{"fast, proof 2, KnownProofMin 2", 2, 2, 300, 5, 1, 2, pathKnown},
		{"the default, 1 min, no proof", 3, 0, 60, 5, 1, 0, pathKnown},
		{"held only, fast, no proof", 4, 0, 300, 5, 1, 0, pathKnown},
		{"fast, no proof, a held charger", 2, 0, 300, 2, 0, 0, pathKnownHeld},
		{"fast and held, no proof, a held charger", 2 | 4, 0, 300, 2, 0, 0, 0},
		{"fast and held, proof 1, a held charger", 2 | 4, 0, 300, 2, 0, 1, pathKnown},
	} {
		p := DefaultPhysicsParams()
		p.KnownProof, p.KnownProofMin = c.bits, c.min
		held, n := int64(40), uint16(8)
		if c.iv <= 90 {
			held, n = 21, 21
		}
		s := stepJudged(&p, c.iv, held, n, fClean, sig{w: 150, maxRun: 30, charger: c.charger, other: c.other, proof: c.proof})
		got := uint8(0)
		if s.c[0].state() == cCharge {
			got = s.sPath
		}
		if got != c.path {
			t.Errorf("%s: confirmed by path %d (%s), want %d (%s)", c.name, got, chargePaths[got], c.path, chargePaths[c.path])
		}
	}
}

// TestKnownProofRefuted: a slot a verdict refuted (proof byte 255) holds
// no proof count for KnownProof: with Feedback turned off after the
// verdict, a quiet, clean step of its size, counted a charger, is not
// confirmed by the fast known-charger path at 5-min readings, as for a
// slot with no proof; nor by the held path with bit 4.
func TestKnownProofRefuted(t *testing.T) {
	for _, c := range []struct {
		name           string
		bits           float64
		charger, other uint8
	}{
		{"fast", 3, 5, 1},
		{"held, bit 4", 2 | 4, 2, 0},
	} {
		p := DefaultPhysicsParams()
		p.KnownProof, p.Feedback = c.bits, 0
		s := stepJudged(&p, 300, 40, 8, fClean, sig{w: 150, maxRun: 30, charger: c.charger, other: c.other, proof: refuted})
		if s.c[0].state() == cCharge && (s.sPath == pathKnown || s.sPath == pathKnownHeld) {
			t.Errorf("%s: a refuted slot read as proven: confirmed by %s", c.name, chargePaths[s.sPath])
		}
		if !s.unproven(0, 2) {
			t.Errorf("%s: a refuted slot is not unproven", c.name)
		}
	}
}
