package dispatch

import (
	"context"
	"testing"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
)

// BenchmarkRouteSmoke measures the critical path inside the dispatcher:
// a smoke alarm's transition routed, rendered and committed to the
// outbox (sending excluded).
func BenchmarkRouteSmoke(b *testing.B) {
	r := newRig(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a := r.alert(int64(i+1), alerting.RuleSmoke, crit, "u1")
		au := alerting.Audit{ID: int64(i + 1), AlertID: a.ID, At: a.FiredAt, Action: alerting.ActionFire, To: alerting.StateFiring, Severity: crit}
		r.d.Notify([]engine.Transition{{Alert: a, Audit: au}})
		if err := r.d.route(ctx, nil); err != nil {
			b.Fatal(err)
		}
	}
}
