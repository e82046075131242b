package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/dispatch"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest"
)

// Deliveries is the notification outbox's record of what was sent to
// whom; *dispatch.Dispatcher is one.
type Deliveries interface {
	AlertReceipts(ctx context.Context, alertID int64) ([]dispatch.Receipt, error)
	Receipts(ctx context.Context, f dispatch.ReceiptFilter) ([]dispatch.Receipt, error)
	Backlog(ctx context.Context) (dispatch.Backlog, error)
}

// errNoNotifications answers the delivery endpoints of a server without a
// notification config.
const errNoNotifications = "notifications are not configured (alerting.notifications in the server config), so nothing is delivered: see docs/notifications.md"

type alertDeliveriesResponse struct {
	Alert      int64              `json:"alert"`
	Deliveries []dispatch.Receipt `json:"deliveries"`
}

// alertDeliveries lists the messages sent about one alert the caller may
// read, oldest first: to whom, by which channel, at which escalation
// level, and whether each was sent, failed or is still pending.
func (s *Server) alertDeliveries(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	if _, ok := s.visible(w, r, p, id); !ok {
		return
	}
	if s.deliveries == nil {
		writeError(w, http.StatusNotImplemented, errNoNotifications)
		return
	}
	rs, err := s.deliveries.AlertReceipts(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	// A message may be about several alerts (those of one building): name
	// only the ones the caller may read.
	seen := map[int64]bool{id: true}
	for i := range rs {
		keep := rs[i].Alerts[:0]
		for _, a := range rs[i].Alerts {
			ok, known := seen[a]
			if !known {
				al, err := s.st.Alert(r.Context(), a)
				ok = err == nil && p.Read.Covers(&al.Location)
				seen[a] = ok
			}
			if ok {
				keep = append(keep, a)
			}
		}
		rs[i].Alerts = keep
	}
	if rs == nil {
		rs = []dispatch.Receipt{}
	}
	writeJSON(w, http.StatusOK, alertDeliveriesResponse{Alert: id, Deliveries: rs})
}

type deliveriesResponse struct {
	Backlog    dispatch.Backlog   `json:"backlog"`
	Deliveries []dispatch.Receipt `json:"deliveries"`
	// NextBefore, when set, fetches the next page: ?before=NextBefore.
	NextBefore int64 `json:"next_before,omitempty"`
}

// listDeliveries is the operators' view of the outbox (admin): the backlog
// of pending messages and its age, and the receipts, newest first,
// filtered by status, channel, person, alert and time.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !p.Roles.Has(registry.RoleAdmin) {
		writeError(w, http.StatusForbidden, "the outbox is for admins: read one alert's deliveries at /api/v1/alerts/{id}/deliveries")
		return
	}
	q := r.URL.Query()
	if err := query(q, "status", "channel", "person", "alert", "since", "before", "limit"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.deliveries == nil {
		writeError(w, http.StatusNotImplemented, errNoNotifications)
		return
	}
	f := dispatch.ReceiptFilter{Status: q.Get("status"), Channel: q.Get("channel"), Person: q.Get("person"), Limit: 100}
	switch f.Status {
	case "", dispatch.StatusPending, dispatch.StatusSent, dispatch.StatusFailed, dispatch.StatusCancelled:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown status %q: use pending, sent, failed or cancelled", f.Status))
		return
	}
	if v := q.Get("since"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: "+err.Error())
			return
		}
		f.Since = t
	}
	for _, x := range []struct {
		name string
		max  int64
		set  func(int64)
	}{
		{"alert", 1 << 62, func(v int64) { f.AlertID = v }},
		{"before", 1 << 62, func(v int64) { f.Before = v }},
		{"limit", 1000, func(v int64) { f.Limit = int(v) }},
	} {
		v := q.Get(x.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > x.max {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s %q must be an integer from 1 to %d", x.name, v, x.max))
			return
		}
		x.set(n)
	}
	b, err := s.deliveries.Backlog(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	rs, err := s.deliveries.Receipts(r.Context(), f)
	if err != nil {
		s.fail(w, err)
		return
	}
	res := deliveriesResponse{Backlog: b, Deliveries: rs}
	if res.Deliveries == nil {
		res.Deliveries = []dispatch.Receipt{}
	}
	if len(rs) == f.Limit {
		res.NextBefore = rs[len(rs)-1].ID
	}
	writeJSON(w, http.StatusOK, res)
}

type lossResponse struct {
	Devices []ingest.DeviceLoss `json:"devices"`
}

// ingestLoss lists the devices with the most readings lost or received
// twice between gateway and ingest, most missing first, among the devices
// the caller may read: those of their places, and for callers who read
// everything also devices no longer in the registry.
func (s *Server) ingestLoss(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	if err := query(q, "limit"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n := 20
	if v := q.Get("limit"); v != "" {
		x, err := strconv.Atoi(v)
		if err != nil || x < 1 || x > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit %q must be an integer from 1 to 1000", v))
			return
		}
		n = x
	}
	res := lossResponse{Devices: []ingest.DeviceLoss{}}
	if s.loss == nil {
		writeJSON(w, http.StatusOK, res)
		return
	}
	all := s.loss()
	if p.Read.All {
		res.Devices = append(res.Devices, all[:min(n, len(all))]...)
		writeJSON(w, http.StatusOK, res)
		return
	}
	snap := s.reg.Current()
	for _, d := range all {
		if len(res.Devices) == n {
			break
		}
		dev, ok := snap.Device(d.Device)
		if !ok {
			continue
		}
		c := dev.Building.Community
		loc := alerting.Location{District: c.Street.District.ID, Street: c.Street.ID, Community: c.ID, Building: dev.Building.ID}
		if p.Read.Covers(&loc) {
			res.Devices = append(res.Devices, d)
		}
	}
	writeJSON(w, http.StatusOK, res)
}
