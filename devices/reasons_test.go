package devices

import "testing"

// TestReasonsCovered checks that the tables above exercise every reason the
// devices package can produce. unknown_gateway and wrong_gateway come from
// the registry lookup in the ingester, not from this package.
func TestReasonsCovered(t *testing.T) {
	got := map[Reason]bool{ReasonBadTopic: true} // TestParseTopicErrors
	for _, c := range teleCases {
		got[c.err] = true
		for _, it := range c.items {
			got[it.reason] = true
		}
	}
	for _, c := range evCases {
		got[c.err] = true
		for _, it := range c.items {
			got[it.reason] = true
		}
	}
	for _, c := range statusCases {
		got[c.err] = true
	}
	for _, r := range Reasons {
		if r == ReasonUnknownGateway || r == ReasonWrongGateway {
			continue
		}
		if !got[r] {
			t.Errorf("no test case produces %s", r)
		}
	}
	seen := map[Reason]bool{}
	for _, r := range Reasons {
		if seen[r] || r == "" || !ValidID(string(r)) {
			t.Errorf("bad reason %q", r)
		}
		seen[r] = true
	}
}
