// Package api is the alerting HTTP API: JSON over net/http, token
// authentication, and scopes by role. docs/api.md documents every endpoint
// with examples.
//
// Roles and scopes come from the registry person a token belongs to (live:
// a change to the registry applies at the next request), or from the token
// itself for a service token:
//
//	grid_worker       read and act on alerts of their communities
//	street_officer    read and act on alerts of their streets
//	district_officer  read and act on alerts of their districts
//	fire_brigade      read only; everything, or their scope when they have one
//	viewer            read only; everything, or their scope when they have one
//	admin             everything, and tokens and the outbox
//
// A person with several roles gets the union. An alert outside the
// caller's scope does not exist for them (404), whether they read or act.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/report"
	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest"
	"github.com/chargewatch/chargewatch/internal/ratelimit"
)

// Backend makes the changes: the engine implements it.
type Backend interface {
	Ack(ctx context.Context, id int64, actor, note string) (*alerting.Alert, error)
	Close(ctx context.Context, id int64, actor string, outcome alerting.Outcome, note string) (*alerting.Alert, error)
	CreateSilence(ctx context.Context, sl alerting.Silence) (alerting.Silence, error)
	EndSilence(ctx context.Context, id int64, actor string) (alerting.Silence, error)
	Locate(device, building, community string) (alerting.Location, error)
}

// Registry gives the current registry snapshot, for people's roles and
// scopes; *registry.Store is one.
type Registry interface{ Current() *registry.Snapshot }

// Options configure the server.
type Options struct {
	// Escalations, when set, counts escalations per alert since a time
	// (Unix ms) for the accountability report (from the notification
	// outbox); nil: the report says escalations were not counted.
	Escalations func(ctx context.Context, since int64) (report.Counts, error)
	Logger      *slog.Logger
	Now         func() time.Time // nil: time.Now
	MaxBody     int64            // request body limit in bytes; 0: 64 KiB
	// AuthFailures limits failed authentications per client address;
	// zero: DefaultAuthFailures.
	AuthFailures Limit
	// Writes limits changes (ack, close, silences, tokens) per caller;
	// zero: DefaultWrites.
	Writes Limit
	// Registerer takes the API's metrics; nil: not exported.
	Registerer prometheus.Registerer
	// Deliveries, when set, serves the delivery receipts of the
	// notification outbox (/api/v1/alerts/{id}/deliveries and, for admins,
	// /api/v1/deliveries); nil: those endpoints answer 501.
	Deliveries Deliveries
	// IngestLoss, when set, returns every device with readings lost or
	// duplicated between gateway and ingest, most missing first, for
	// /api/v1/ingest/loss; nil: the list is empty.
	IngestLoss func() []ingest.DeviceLoss
}

// Limit is a token bucket: Burst at once, refilled at PerMinute.
type Limit struct {
	Burst     int
	PerMinute float64
}

// Default limits. A token is 256 random bits, so failed attempts can only
// be mistakes or an attack on the store; 10 in a row, then one a minute,
// is plenty for a person. Thirty changes at once, then one every 2 s, lets a
// grid worker clear a storm of alerts and stops a stolen token from
// acknowledging everything in sight.
var (
	DefaultAuthFailures = Limit{Burst: 10, PerMinute: 1}
	DefaultWrites       = Limit{Burst: 30, PerMinute: 30}
)

// Server serves the API.
type Server struct {
	st      *store.Store
	be      Backend
	reg     Registry
	log     *slog.Logger
	now     func() time.Time
	maxBody int64

	authFailures *ratelimit.Limiter // by client address
	writes       *ratelimit.Limiter // by subject
	metrics      metrics
	escalations  func(ctx context.Context, since int64) (report.Counts, error)
	deliveries   Deliveries
	loss         func() []ingest.DeviceLoss
}

// New returns a server reading from st, changing through be, and taking
// people's roles from reg.
func New(st *store.Store, be Backend, reg Registry, o Options) *Server {
	s := &Server{st: st, be: be, reg: reg, log: o.Logger, now: o.Now, maxBody: o.MaxBody, escalations: o.Escalations,
		deliveries: o.Deliveries, loss: o.IngestLoss}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = 64 << 10
	}
	if o.AuthFailures == (Limit{}) {
		o.AuthFailures = DefaultAuthFailures
	}
	if o.Writes == (Limit{}) {
		o.Writes = DefaultWrites
	}
	s.authFailures = ratelimit.New(o.AuthFailures.PerMinute/60, o.AuthFailures.Burst, 0)
	s.writes = ratelimit.New(o.Writes.PerMinute/60, o.Writes.Burst, 0)
	s.authFailures.SetClock(s.now)
	s.writes.SetClock(s.now)
	s.metrics = newMetrics(o.Registerer)
	return s
}

// Handler returns the API's routes, all under /api/v1/. Mount it as is:
//
//	mux.Handle("/api/v1/", srv.Handler())
func (s *Server) Handler() http.Handler {
	mux, known := http.NewServeMux(), http.NewServeMux()
	for _, r := range s.routes() {
		h := r.h
		if r.write {
			h = s.limitWrites(h)
		}
		if !r.query {
			h = noQuery(h)
		}
		mux.HandleFunc(r.pattern, s.authed(h))
		known.HandleFunc(r.pattern, func(http.ResponseWriter, *http.Request) {})
	}
	// Everything else gets a JSON 405 (with Allow) or 404.
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range []string{"GET", "POST", "DELETE"} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := known.Handler(probe); pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		writeError(w, http.StatusNotFound, "no such endpoint: see docs/api.md")
	})
	return mux
}

// route is one endpoint: write marks changes (rate-limited per caller),
// query endpoints that take query parameters (they check them; the others
// refuse any).
type route struct {
	pattern string
	h       handler
	write   bool
	query   bool
}

func (s *Server) routes() []route {
	return []route{
		{"GET /api/v1/whoami", s.whoami, false, false},
		{"GET /api/v1/alerts", s.listAlerts, false, true},
		{"GET /api/v1/alerts/{id}", s.getAlert, false, false},
		{"POST /api/v1/alerts/{id}/ack", s.ackAlert, true, false},
		{"POST /api/v1/alerts/{id}/close", s.closeAlert, true, false},
		{"GET /api/v1/alerts/{id}/deliveries", s.alertDeliveries, false, false},
		{"GET /api/v1/deliveries", s.listDeliveries, false, true},
		{"GET /api/v1/silences", s.listSilences, false, true},
		{"POST /api/v1/silences", s.createSilence, true, false},
		{"DELETE /api/v1/silences/{id}", s.endSilence, true, false},
		{"GET /api/v1/audit", s.listAudit, false, true},
		{"GET /api/v1/report", s.getReport, false, true},
		{"GET /api/v1/tokens", s.listTokens, false, false},
		{"POST /api/v1/tokens", s.createToken, true, false},
		{"DELETE /api/v1/tokens/{id}", s.revokeToken, true, false},
		{"GET /api/v1/ingest/loss", s.ingestLoss, false, true},
	}
}

// Patterns returns the method and path pattern of every endpoint, as
// net/http.ServeMux spells them ("GET /api/v1/alerts/{id}"): for pages
// that call the API to check their calls against.
func Patterns() []string {
	var out []string
	for _, r := range (&Server{}).routes() {
		out = append(out, r.pattern)
	}
	return out
}

// noQuery refuses query parameters on endpoints that take none, so that a
// mistyped filter is an error instead of being ignored.
func noQuery(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *Principal) {
		if err := query(r.URL.Query()); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		h(w, r, p)
	}
}

// limitWrites rate-limits changes per caller.
func (s *Server) limitWrites(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, p *Principal) {
		if ok, wait := s.writes.Allow(p.Subject); !ok {
			s.metrics.limited.WithLabelValues(limitWrite).Inc()
			tooMany(w, wait, fmt.Sprintf("too many changes by %s: at most %d at once and then one every %s; try again in %s",
				p.Subject, int(s.writes.Burst()), s.writes.Every(), retrySeconds(wait)))
			return
		}
		h(w, r, p)
	}
}

// Principal is the authenticated caller.
type Principal struct {
	Subject string           // person id, or "token:NAME" for a service token
	Roles   registry.RoleSet // all roles
	Read    alerting.Scope   // what they may see
	Write   alerting.Scope   // what they may act on
	TokenID int64
}

// write roles may act on alerts and silences in their scope.
var writeRoles = []registry.Role{registry.RoleGridWorker, registry.RoleStreetOfficer, registry.RoleDistrictOfficer, registry.RoleAdmin}

// principal works out roles and scopes for a token.
func (s *Server) principal(t store.Token) (*Principal, error) {
	p := &Principal{TokenID: t.ID}
	if t.Person == "" {
		r, ok := registry.ParseRole(t.Role)
		if !ok {
			return nil, fmt.Errorf("service token %d has unknown role %q", t.ID, t.Role)
		}
		p.Subject, p.Roles = "token:"+t.Name, p.Roles.With(r)
		scopes(p, r, t.Scope)
		return p, nil
	}
	per, ok := s.reg.Current().Person(t.Person)
	if !ok {
		return nil, fmt.Errorf("person %q of token %d is no longer in the registry", t.Person, t.ID)
	}
	p.Subject, p.Roles = per.ID, per.Roles
	own := alerting.Scope{}
	for _, c := range per.Communities {
		own.Communities = append(own.Communities, c.ID)
	}
	for _, st := range per.Streets {
		own.Streets = append(own.Streets, st.ID)
	}
	for _, d := range per.Districts {
		own.Districts = append(own.Districts, d.ID)
	}
	for _, r := range per.Roles.Roles() {
		scopes(p, r, own)
	}
	return p, nil
}

// scopes adds what role r with places sc may read and write.
func scopes(p *Principal, r registry.Role, sc alerting.Scope) {
	var add alerting.Scope
	switch r {
	case registry.RoleAdmin:
		add.All = true
	case registry.RoleGridWorker:
		add.Communities = sc.Communities
	case registry.RoleStreetOfficer:
		add.Streets = sc.Streets
	case registry.RoleDistrictOfficer:
		add.Districts = sc.Districts
	case registry.RoleFireBrigade, registry.RoleViewer:
		add = sc
		add.All = sc.All || sc.Empty()
	}
	union(&p.Read, add)
	if slices.Contains(writeRoles, r) {
		union(&p.Write, add)
	}
}

func union(dst *alerting.Scope, add alerting.Scope) {
	dst.All = dst.All || add.All
	for _, pair := range []struct {
		dst *[]string
		add []string
	}{
		{&dst.Communities, add.Communities}, {&dst.Streets, add.Streets}, {&dst.Districts, add.Districts},
	} {
		for _, v := range pair.add {
			if !slices.Contains(*pair.dst, v) {
				*pair.dst = append(*pair.dst, v)
			}
		}
	}
}

type handler func(w http.ResponseWriter, r *http.Request, p *Principal)

// authed authenticates the bearer token and passes the principal on.
// Failed attempts are counted per client address: beyond the limit they
// are answered 429 with Retry-After instead of 401 (and not logged one by
// one) until the address's bucket refills. A valid token is always served,
// so one misbehaving client behind a shared address (carrier NAT, a
// proxy) does not lock out the others.
func (s *Server) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		failed := func(reason, msg string) {
			s.metrics.authFailures.WithLabelValues(reason).Inc()
			addr := clientAddr(r)
			if ok, wait := s.authFailures.Allow(addr); !ok {
				s.metrics.limited.WithLabelValues(limitAuth).Inc()
				tooMany(w, wait, fmt.Sprintf("too many failed authentications from %s: fix the token, then try again in %s", addr, retrySeconds(wait)))
				return
			}
			if blocked, _ := s.authFailures.Blocked(addr); blocked {
				s.log.Warn("failed authentications from one address: answering 429 for a while", "client", addr, "reason", reason)
			}
			writeError(w, http.StatusUnauthorized, msg)
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chargewatch"`)
			failed(authMissing, "missing token: send Authorization: Bearer <token>")
			return
		}
		t, err := s.st.Authenticate(r.Context(), strings.TrimSpace(tok), s.now().UnixMilli())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chargewatch", error="invalid_token"`)
			if !errors.Is(err, store.ErrBadToken) {
				s.log.Error("token check failed", "err", err)
				writeError(w, http.StatusServiceUnavailable, "cannot check the token now: try again")
				return
			}
			failed(authInvalid, "invalid token: it is unknown, revoked or expired")
			return
		}
		p, err := s.principal(t)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chargewatch", error="invalid_token"`)
			failed(authInvalid, "invalid token: "+err.Error())
			return
		}
		h(w, r, p)
	}
}

// clientAddr is the address failed authentications are counted against:
// the connection's IP. Behind a reverse proxy every client shares the
// proxy's address (docs/security.md).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func tooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeError(w, http.StatusTooManyRequests, msg)
}

func retrySeconds(d time.Duration) string {
	return (time.Duration(math.Ceil(d.Seconds())) * time.Second).String()
}

// errorBody is every error's JSON.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// fail maps an error of the engine or the store to a status.
func (s *Server) fail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, alerting.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, alerting.ErrConflict):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, alerting.ErrInvalid):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.log.Error("request failed", "err", err)
		writeError(w, http.StatusServiceUnavailable, "the request failed; try again: "+err.Error())
	}
}

// decode reads a JSON body strictly: at most maxBody bytes, one object, no
// unknown fields.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send the body as application/json")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, s.maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", mbe.Limit))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "request body is empty: send a JSON object")
		default:
			writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid JSON body: more than one value")
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "invalid JSON body: data after the object")
		return false
	}
	return true
}

func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("id %q is not a positive integer", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// parseTime accepts RFC 3339 or Unix milliseconds.
func parseTime(v string) (int64, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return ms, nil
	}
	// A "+" in an unencoded query string arrives as a space.
	t, err := time.Parse(time.RFC3339, strings.Replace(v, " ", "+", 1))
	if err != nil {
		return 0, fmt.Errorf("%q is neither RFC 3339 (2026-01-05T20:00:00+08:00) nor Unix milliseconds", v)
	}
	return t.UnixMilli(), nil
}

// query checks that q has only known parameters, each at most once.
func query(q url.Values, known ...string) error {
	for k, vs := range q {
		if !slices.Contains(known, k) {
			return fmt.Errorf("unknown query parameter %q: use %s", k, strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return fmt.Errorf("query parameter %q is given %d times: give a comma-separated list instead", k, len(vs))
		}
	}
	return nil
}

func list(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}
