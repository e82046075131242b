package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
)

type whoamiResponse struct {
	Subject string         `json:"subject"`
	Roles   []string       `json:"roles"`
	Read    alerting.Scope `json:"read"`
	Write   alerting.Scope `json:"write"`
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, p *Principal) {
	res := whoamiResponse{Subject: p.Subject, Read: p.Read, Write: p.Write, Roles: []string{}}
	for _, role := range p.Roles.Roles() {
		res.Roles = append(res.Roles, role.String())
	}
	writeJSON(w, http.StatusOK, res)
}

type listResponse struct {
	Alerts []*alerting.Alert `json:"alerts"`
	// NextBefore, when set, fetches the next page: ?before=NextBefore.
	NextBefore int64 `json:"next_before,omitempty"`
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	if err := query(q, "state", "severity", "rule", "district", "street", "community", "building", "unit", "device",
		"since", "until", "before", "limit"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	f := store.Filter{
		District: q.Get("district"), Street: q.Get("street"), Community: q.Get("community"),
		Building: q.Get("building"), Unit: q.Get("unit"), Device: q.Get("device"), Scope: &p.Read,
	}
	for _, v := range list(q.Get("state")) {
		st := alerting.State(v)
		if v == "open" {
			f.States = append(f.States, alerting.StatePending, alerting.StateFiring, alerting.StateAcknowledged, alerting.StateResolved)
			continue
		}
		if !st.Valid() {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown state %q: use open, pending, firing, acknowledged, resolved, closed or cancelled", v))
			return
		}
		f.States = append(f.States, st)
	}
	for _, v := range list(q.Get("severity")) {
		sev, err := alerting.ParseSeverity(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		f.Severities = append(f.Severities, sev)
	}
	for _, v := range list(q.Get("rule")) {
		if !alerting.Rule(v).Valid() {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown rule %q: see docs/alerting.md", v))
			return
		}
		f.Rules = append(f.Rules, alerting.Rule(v))
	}
	for _, x := range []struct {
		name string
		dst  *int64
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(x.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, x.name+": "+err.Error())
				return
			}
			*x.dst = t
		}
	}
	for _, x := range []struct {
		name string
		dst  *int64
		max  int64
	}{{"before", &f.Before, 1 << 62}, {"limit", nil, store.MaxLimit}} {
		v := q.Get(x.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > x.max {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s %q must be an integer from 1 to %d", x.name, v, x.max))
			return
		}
		if x.dst != nil {
			*x.dst = n
		} else {
			f.Limit = int(n)
		}
	}
	as, err := s.st.Alerts(r.Context(), &f)
	if err != nil {
		s.fail(w, err)
		return
	}
	res := listResponse{Alerts: as}
	if res.Alerts == nil {
		res.Alerts = []*alerting.Alert{}
	}
	limit := f.Limit
	if limit == 0 {
		limit = 100
	}
	if len(as) == limit {
		res.NextBefore = as[len(as)-1].ID
	}
	writeJSON(w, http.StatusOK, res)
}

type alertResponse struct {
	Alert *alerting.Alert  `json:"alert"`
	Names placeNames       `json:"names"`
	Audit []alerting.Audit `json:"audit"`
}

// placeNames are the registry's names of an alert's places, for people
// (the alert holds ids); a place no longer in the registry is left out.
type placeNames struct {
	District  string `json:"district,omitempty"`
	Street    string `json:"street,omitempty"`
	Community string `json:"community,omitempty"`
	Building  string `json:"building,omitempty"`
	Address   string `json:"address,omitempty"`
	Unit      string `json:"unit,omitempty"`
	Room      string `json:"room,omitempty"`
	Device    string `json:"device,omitempty"`
}

func (s *Server) names(l *alerting.Location) placeNames {
	return placeNames(s.reg.Current().Names(l.District, l.Street, l.Community, l.Building, l.Unit, l.Device))
}

// visible loads an alert the caller may read, or answers 404.
func (s *Server) visible(w http.ResponseWriter, r *http.Request, p *Principal, id int64) (*alerting.Alert, bool) {
	a, err := s.st.Alert(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return nil, false
	}
	if !p.Read.Covers(&a.Location) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("alert %d: not found", id))
		return nil, false
	}
	return a, true
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	a, ok := s.visible(w, r, p, id)
	if !ok {
		return
	}
	au, err := s.st.Audit(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	if au == nil {
		au = []alerting.Audit{}
	}
	writeJSON(w, http.StatusOK, alertResponse{Alert: a, Names: s.names(&a.Location), Audit: au})
}

// actable loads an alert the caller may act on: 404 outside their read
// scope, 403 when they may read but not act on it.
func (s *Server) actable(w http.ResponseWriter, r *http.Request, p *Principal) (int64, bool) {
	id, ok := pathID(w, r)
	if !ok {
		return 0, false
	}
	a, ok := s.visible(w, r, p, id)
	if !ok {
		return 0, false
	}
	if !p.Write.Covers(&a.Location) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("alert %d: your roles (%s) may read it but not act on it", id, p.Roles))
		return 0, false
	}
	return id, true
}

type ackRequest struct {
	Note string `json:"note"`
}

func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, ok := s.actable(w, r, p)
	if !ok {
		return
	}
	var req ackRequest
	if r.ContentLength != 0 && !s.decode(w, r, &req) {
		return
	}
	if len(req.Note) > 2000 {
		writeError(w, http.StatusBadRequest, "note is longer than 2000 bytes")
		return
	}
	a, err := s.be.Ack(r.Context(), id, p.Subject, req.Note)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type closeRequest struct {
	Outcome alerting.Outcome `json:"outcome"`
	Note    string           `json:"note"`
}

func (s *Server) closeAlert(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, ok := s.actable(w, r, p)
	if !ok {
		return
	}
	var req closeRequest
	if !s.decode(w, r, &req) {
		return
	}
	switch {
	case !req.Outcome.Valid():
		writeError(w, http.StatusBadRequest, fmt.Sprintf("outcome %q: use rectified, false_alarm or referred", req.Outcome))
		return
	case strings.TrimSpace(req.Note) == "":
		writeError(w, http.StatusBadRequest, "note is required: say what was found and done")
		return
	case len(req.Note) > 2000:
		writeError(w, http.StatusBadRequest, "note is longer than 2000 bytes")
		return
	}
	a, err := s.be.Close(r.Context(), id, p.Subject, req.Outcome, req.Note)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

type silencesResponse struct {
	Silences []alerting.Silence `json:"silences"`
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request, p *Principal) {
	q := r.URL.Query()
	if err := query(q, "all"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	at := s.now().UnixMilli()
	if q.Get("all") == "true" {
		at = 0
	}
	sls, err := s.st.Silences(r.Context(), at)
	if err != nil {
		s.fail(w, err)
		return
	}
	res := silencesResponse{Silences: []alerting.Silence{}}
	for _, sl := range sls {
		if p.Read.Covers(&sl.Location) {
			res.Silences = append(res.Silences, sl)
		}
	}
	writeJSON(w, http.StatusOK, res)
}

type silenceRequest struct {
	Device    string          `json:"device"`
	Building  string          `json:"building"`
	Community string          `json:"community"`
	Rules     []alerting.Rule `json:"rules"`
	Reason    string          `json:"reason"`
	StartsAt  string          `json:"starts_at"` // RFC 3339; default now
	EndsAt    string          `json:"ends_at"`   // RFC 3339
}

func (s *Server) createSilence(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req silenceRequest
	if !s.decode(w, r, &req) {
		return
	}
	sl := alerting.Silence{Device: req.Device, Building: req.Building, Community: req.Community, Rules: req.Rules,
		Reason: strings.TrimSpace(req.Reason), CreatedBy: p.Subject}
	var err error
	if req.StartsAt != "" {
		if sl.StartsAt, err = parseTime(req.StartsAt); err != nil {
			writeError(w, http.StatusBadRequest, "starts_at: "+err.Error())
			return
		}
	}
	if req.EndsAt == "" {
		writeError(w, http.StatusBadRequest, "ends_at is required: a silence always ends")
		return
	}
	if sl.EndsAt, err = parseTime(req.EndsAt); err != nil {
		writeError(w, http.StatusBadRequest, "ends_at: "+err.Error())
		return
	}
	if len(sl.Reason) > 500 {
		writeError(w, http.StatusBadRequest, "reason is longer than 500 bytes")
		return
	}
	// The place must be within what the caller may act on.
	loc, err := s.be.Locate(req.Device, req.Building, req.Community)
	if err != nil {
		writeError(w, http.StatusBadRequest, "silence: "+err.Error())
		return
	}
	if !p.Write.Covers(&loc) {
		writeError(w, http.StatusForbidden, fmt.Sprintf("your roles (%s) may not silence this place: it is outside the places you act on", p.Roles))
		return
	}
	// Silencing smoke alarms is what an attacker with a stolen token would
	// do first: it takes an admin (docs/security.md).
	if slices.Contains(sl.Rules, alerting.RuleSmoke) && !p.Roles.Has(registry.RoleAdmin) {
		writeError(w, http.StatusForbidden, "only an admin may silence smoke alarms: leave smoke out of rules (a silence without rules never covers smoke)")
		return
	}
	sl, err = s.be.CreateSilence(r.Context(), sl)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, sl)
}

func (s *Server) endSilence(w http.ResponseWriter, r *http.Request, p *Principal) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	sl, err := s.st.Silence(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	switch {
	case !p.Read.Covers(&sl.Location):
		writeError(w, http.StatusNotFound, fmt.Sprintf("silence %d: not found", id))
		return
	case !p.Write.Covers(&sl.Location):
		writeError(w, http.StatusForbidden, fmt.Sprintf("your roles (%s) may not end this silence", p.Roles))
		return
	}
	if sl, err = s.be.EndSilence(r.Context(), id, p.Subject); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sl)
}

func (s *Server) admin(w http.ResponseWriter, p *Principal) bool {
	if !p.Roles.Has(registry.RoleAdmin) {
		writeError(w, http.StatusForbidden, "tokens are managed by admins")
		return false
	}
	return true
}

type tokensResponse struct {
	Tokens []store.Token `json:"tokens"`
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !s.admin(w, p) {
		return
	}
	ts, err := s.st.Tokens(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	if ts == nil {
		ts = []store.Token{}
	}
	writeJSON(w, http.StatusOK, tokensResponse{Tokens: ts})
}

type tokenRequest struct {
	Name      string         `json:"name"`
	Person    string         `json:"person"`
	Role      string         `json:"role"`
	Scope     alerting.Scope `json:"scope"`
	ExpiresAt string         `json:"expires_at"` // RFC 3339; empty: never
}

type tokenResponse struct {
	Token  string      `json:"token"` // shown once
	Record store.Token `json:"record"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !s.admin(w, p) {
		return
	}
	var req tokenRequest
	if !s.decode(w, r, &req) {
		return
	}
	now := s.now().UnixMilli()
	t := store.Token{Name: strings.TrimSpace(req.Name), Person: req.Person, Role: req.Role, Scope: req.Scope, CreatedBy: p.Subject, CreatedAt: now}
	if req.ExpiresAt != "" {
		exp, err := parseTime(req.ExpiresAt)
		if err != nil || exp <= now {
			writeError(w, http.StatusBadRequest, "expires_at must be a time in the future (RFC 3339)")
			return
		}
		t.ExpiresAt = exp
	}
	if t.Person != "" {
		if _, ok := s.reg.Current().Person(t.Person); !ok {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("no person %q in the registry", t.Person))
			return
		}
		if t.Role != "" || !t.Scope.Empty() {
			writeError(w, http.StatusBadRequest, "a person's token takes its roles and scope from the registry: leave role and scope out")
			return
		}
	} else if _, ok := registry.ParseRole(t.Role); !ok {
		writeError(w, http.StatusBadRequest, "give a person, or a role (grid_worker, street_officer, district_officer, fire_brigade, viewer, admin) for a service token")
		return
	}
	tok, rec, err := s.st.CreateToken(r.Context(), t)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.log.Info("token created", "token_id", rec.ID, "name", rec.Name, "person", rec.Person, "role", rec.Role, "by", p.Subject)
	writeJSON(w, http.StatusCreated, tokenResponse{Token: tok, Record: rec})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, p *Principal) {
	if !s.admin(w, p) {
		return
	}
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	// The record says who revoked the token (p.Subject) and when; a
	// second revocation leaves the first one's revoker in place.
	rec, err := s.st.RevokeToken(r.Context(), id, s.now().UnixMilli(), p.Subject)
	if err != nil {
		s.fail(w, err)
		return
	}
	s.log.Info("token revoked", "token_id", id, "name", rec.Name, "by", p.Subject, "revoked_by", rec.RevokedBy, "revoked_at", rec.RevokedAt)
	w.WriteHeader(http.StatusNoContent)
}
