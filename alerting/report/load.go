package report

import (
	"context"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
)

// Load reads the alerts that started in [from, to) (Unix ms) within scope
// (nil: everything) from the store, page by page.
func Load(ctx context.Context, st *store.Store, scope *alerting.Scope, from, to int64) ([]alerting.Alert, error) {
	var out []alerting.Alert
	f := store.Filter{Since: from, Until: to, Scope: scope, Limit: store.MaxLimit}
	if f.Since == 0 {
		f.Since = 1 // 0 does not filter; nothing starts at the epoch
	}
	for {
		page, err := st.Alerts(ctx, &f)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			out = append(out, *a)
		}
		if len(page) < store.MaxLimit {
			return out, nil
		}
		f.Before = page[len(page)-1].ID
	}
}
