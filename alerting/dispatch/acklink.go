package dispatch

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// A personal acknowledgement link is PublicURL + AckLink.Path + token.
// The token is base64url(payload) "." base64url(mac), where mac is the
// first 16 bytes of HMAC-SHA256(link key, payload) and payload is
//
//	byte     version (1)
//	uvarint  expiry, Unix seconds
//	8 bytes  nonce (random; makes the link single-use)
//	uvarint  length, then the person id
//	uvarint  count, then each alert id as uvarint
//
// A GET (what link previews and chat apps fetch) only shows a
// confirmation page; the acknowledgement is the page's POST. A link works
// until it expires and once.

const (
	linkVersion  = 1
	linkMACBytes = 16
	nonceBytes   = 8
	maxLinkIDs   = 64
)

type linkClaims struct {
	alerts  []int64
	person  string
	expires int64 // Unix seconds
	nonce   []byte
}

func newNonce() []byte {
	b := make([]byte, nonceBytes)
	rand.Read(b)
	return b
}

func (d *Dispatcher) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, []byte(d.linkKey.Reveal()))
	m.Write(payload)
	return m.Sum(nil)[:linkMACBytes]
}

func (d *Dispatcher) signLink(c linkClaims) string {
	if len(c.alerts) > maxLinkIDs {
		c.alerts = c.alerts[:maxLinkIDs]
	}
	b := []byte{linkVersion}
	b = binary.AppendUvarint(b, uint64(c.expires))
	b = append(b, c.nonce...)
	b = binary.AppendUvarint(b, uint64(len(c.person)))
	b = append(b, c.person...)
	b = binary.AppendUvarint(b, uint64(len(c.alerts)))
	for _, id := range c.alerts {
		b = binary.AppendUvarint(b, uint64(id))
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(b) + "." + enc.EncodeToString(d.mac(b))
}

var (
	errLinkInvalid = errors.New("invalid link")
	errLinkExpired = errors.New("expired link")
)

// parseLink checks a token's signature and expiry at now.
func (d *Dispatcher) parseLink(tok string, now time.Time) (linkClaims, error) {
	var c linkClaims
	p, s, ok := strings.Cut(tok, ".")
	if !ok || len(tok) > 1024 {
		return c, errLinkInvalid
	}
	// Strict: a token has one spelling. The last character of a base64
	// string can carry unused bits, which a lenient decoder ignores, so
	// a link would also verify with other last characters.
	enc := base64.RawURLEncoding.Strict()
	payload, err1 := enc.DecodeString(p)
	sig, err2 := enc.DecodeString(s)
	if err1 != nil || err2 != nil || !hmac.Equal(sig, d.mac(payload)) {
		return c, errLinkInvalid
	}
	b := payload
	if len(b) < 1 || b[0] != linkVersion {
		return c, errLinkInvalid
	}
	b = b[1:]
	exp, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+nonceBytes {
		return c, errLinkInvalid
	}
	c.expires = int64(exp)
	b = b[n:]
	c.nonce, b = b[:nonceBytes], b[nonceBytes:]
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l || l > 64 {
		return c, errLinkInvalid
	}
	c.person, b = string(b[n:n+int(l)]), b[n+int(l):]
	cnt, n := binary.Uvarint(b)
	if n <= 0 || cnt == 0 || cnt > maxLinkIDs {
		return c, errLinkInvalid
	}
	b = b[n:]
	for range cnt {
		id, n := binary.Uvarint(b)
		if n <= 0 {
			return c, errLinkInvalid
		}
		c.alerts, b = append(c.alerts, int64(id)), b[n:]
	}
	if len(b) != 0 {
		return c, errLinkInvalid
	}
	if now.Unix() >= c.expires {
		return c, errLinkExpired
	}
	return c, nil
}

// AckFunc acknowledges an alert on behalf of a registry person. Errors
// matching alerting.ErrConflict or alerting.ErrNotFound (already
// acknowledged, resolved, closed, unknown) are final; others are taken as
// passing trouble and leave the link usable.
type AckFunc func(ctx context.Context, alertID int64, personID string) error

// AckHandler serves the personal acknowledgement links at the path
// configured as ack_link.path (mount it there, e.g. mux.Handle("/ack/",
// h)): GET and HEAD show a confirmation page and change nothing, so link
// previews cannot acknowledge; the page's POST acknowledges every alert of
// the link through ack, once, before the link expires.
func (d *Dispatcher) AckHandler(ack AckFunc) http.Handler {
	return &ackHandler{d: d, ack: ack}
}

type ackHandler struct {
	d   *Dispatcher
	ack AckFunc
}

// pageAlert is an alert on the page.
type pageAlert struct {
	ID     int64
	Title  string
	Place  string
	Status string
	Result string
}

type page struct {
	Lang    string
	Heading string
	Text    string
	Alerts  []pageAlert
	Form    bool
	Button  string
}

// pageHeaders sets the headers of the pages a phone opens (the
// acknowledgement page, the alert page): never cached, never indexed,
// never framed, no referrer leaving with the token, and the page's own
// content security policy.
func pageHeaders(w http.ResponseWriter, csp string) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Robots-Tag", "noindex, nofollow")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", csp)
}

func (h *ackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w, "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	hd := w.Header()
	d := h.d
	now := d.clock.Now()
	tok := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	c, err := d.parseLink(tok, now)
	locale := d.cfg.Locale
	if err == nil {
		if p, ok := d.reg.Current().Person(c.person); ok && p.Locale != "" {
			locale = p.Locale
		}
	}
	tr := func(zh, en string) string {
		if locale == notify.LocaleEN {
			return en
		}
		return zh
	}
	show := func(status int, pg page) {
		pg.Lang = locale
		hd.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			pageTemplate.Execute(w, &pg)
		}
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		hd.Set("Allow", "GET, HEAD, POST")
		show(http.StatusMethodNotAllowed, page{Heading: tr("不支持的请求", "Method not allowed")})
		return
	}
	switch {
	case errors.Is(err, errLinkExpired):
		d.m.ackLink("expired")
		show(http.StatusGone, page{Heading: tr("链接已过期", "This link has expired"),
			Text: tr("请在系统中用本人令牌登录后确认。", "Sign in with your own token to acknowledge.")})
		return
	case err != nil:
		d.m.ackLink("invalid")
		show(http.StatusNotFound, page{Heading: tr("链接无效", "Invalid link")})
		return
	}
	used, err := d.db.linkUsed(r.Context(), c.nonce)
	if err != nil {
		show(http.StatusServiceUnavailable, page{Heading: tr("暂时无法处理，请稍后再试", "Please try again in a moment")})
		return
	}
	if used {
		d.m.ackLink("used")
		show(http.StatusGone, page{Heading: tr("链接已使用过", "This link has been used"),
			Text: tr("每个确认链接只能使用一次。", "Each acknowledgement link works once.")})
		return
	}
	// The link acts for its person as they are now: someone removed from
	// the registry, or moved off the alerts' places, cannot acknowledge
	// with a link made for them before.
	per, ok := d.reg.Current().Person(c.person)
	if !ok {
		d.m.ackLink("refused")
		show(http.StatusGone, page{Heading: tr("链接已失效", "This link no longer works"),
			Text: tr("该链接的接收人已不在人员名单中，不能再用它确认。如有疑问请联系管理员。",
				"The person this link was made for is no longer in the registry, so it cannot acknowledge. Ask an administrator if this is wrong.")})
		return
	}
	theirs := h.responsible(r.Context(), per, c.alerts)
	if !slices.Contains(theirs, true) {
		d.m.ackLink("refused")
		show(http.StatusForbidden, page{Heading: tr("您已不再负责这些告警", "These alerts are no longer yours"),
			Text: tr("您已不再负责这些告警所在的社区或片区，不能用此链接确认。请联系现在的负责人。",
				"You are no longer responsible for the community or area of these alerts, so this link cannot acknowledge them. Tell whoever is responsible now.")})
		return
	}
	alerts := h.describe(c.alerts, locale, now)
	for i := range alerts {
		if !theirs[i] { // nothing of places no longer theirs
			alerts[i].Place, alerts[i].Status = "", tr("您已不再负责此处", "no longer yours")
		}
	}
	if r.Method != http.MethodPost {
		d.m.ackLink("shown")
		show(http.StatusOK, page{Heading: tr("确认接警", "Acknowledge"), Alerts: alerts, Form: true,
			Text:   tr("确认后，升级和提醒将停止，您将作为接警人记录在案。", "Acknowledging stops escalation and reminders and records you as the responder."),
			Button: tr("我已接警，立即处置", "I take it on")})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("confirm") != "yes" {
		show(http.StatusBadRequest, page{Heading: tr("请从确认页面提交", "Submit from the confirmation page")})
		return
	}
	ok, err = d.db.claimLink(r.Context(), c.nonce, c.person, now.UnixMilli(), c.expires)
	if err != nil {
		show(http.StatusServiceUnavailable, page{Heading: tr("暂时无法处理，请稍后再试", "Please try again in a moment")})
		return
	}
	if !ok {
		d.m.ackLink("used")
		show(http.StatusGone, page{Heading: tr("链接已使用过", "This link has been used")})
		return
	}
	done, transient := 0, 0
	for i := range alerts {
		if !theirs[i] {
			alerts[i].Result = tr("未确认：您已不再负责此处", "not acknowledged: no longer yours")
			continue
		}
		err := h.ack(r.Context(), alerts[i].ID, c.person)
		switch {
		case err == nil:
			done++
			alerts[i].Result = tr("已确认", "acknowledged")
		case errors.Is(err, alerting.ErrConflict) || errors.Is(err, alerting.ErrNotFound):
			alerts[i].Result = tr("无需确认（已被确认、已恢复或已结案）", "not needed (already acknowledged, resolved or closed)")
		default:
			transient++
			alerts[i].Result = tr("失败，请稍后再试", "failed, try again")
			d.log.Warn("acknowledging from a link failed", "alert", alerts[i].ID, "person", c.person, "err", err)
		}
	}
	if done == 0 && transient > 0 {
		// Nothing happened: let the link be used again.
		if err := d.db.releaseLink(context.WithoutCancel(r.Context()), c.nonce); err != nil {
			d.log.Error("releasing an ack link failed", "err", err)
		}
		d.m.ackLink("error")
		show(http.StatusServiceUnavailable, page{Heading: tr("暂时无法确认，请稍后再试", "Could not acknowledge; please try again"), Alerts: alerts})
		return
	}
	d.m.ackLink("acknowledged")
	show(http.StatusOK, page{Heading: tr("已确认接警", "Acknowledged"), Alerts: alerts,
		Text: tr("请尽快到场处置，处置后在系统中填写结果结案。", "Go to the site; close the alert with its outcome when done.")})
}

// responsible reports, for each alert id, whether p may act on it now: an
// admin may act on every alert; anyone else on the alerts of the
// communities, streets and districts the registry gives them, and on
// those of a ladder that names them, and of their duty rosters. An alert the dispatcher no longer
// follows is looked up in the alert store; one found nowhere is left to
// the AckFunc, which refuses unknown alerts.
func (h *ackHandler) responsible(ctx context.Context, p *registry.Person, ids []int64) []bool {
	d := h.d
	out := make([]bool, len(ids))
	locs := make([]*alerting.Alert, len(ids))
	var missing []int64
	d.mu.Lock()
	for i, id := range ids {
		if t, ok := d.alerts[id]; ok {
			locs[i] = t.a.Clone()
		} else {
			missing = append(missing, id)
		}
	}
	d.mu.Unlock()
	if len(missing) > 0 && d.src != nil {
		found, err := d.src.AlertsByID(ctx, missing)
		if err != nil {
			d.log.Warn("looking up alerts for an ack link failed", "err", err)
		}
		for i, id := range ids {
			if locs[i] == nil && found[id] != nil {
				locs[i] = found[id]
			}
		}
	}
	for i, a := range locs {
		if a == nil {
			out[i] = d.src == nil
			continue
		}
		out[i] = p.Roles.Has(registry.RoleAdmin) || covers(p, &a.Location) || d.ladderNames(a, p.ID)
	}
	return out
}

// covers reports whether l is in one of p's places, or in a place of one
// of their duty rosters (on duty now or not: a shift that ended does not
// take the alert away).
func covers(p *registry.Person, l *alerting.Location) bool {
	for _, ro := range p.Rosters {
		switch {
		case ro.Community != nil && ro.Community.ID == l.Community,
			ro.Street != nil && ro.Street.ID == l.Street,
			ro.District != nil && ro.District.ID == l.District:
			return true
		}
	}
	for _, c := range p.Communities {
		if c.ID == l.Community {
			return true
		}
	}
	for _, s := range p.Streets {
		if s.ID == l.Street {
			return true
		}
	}
	for _, x := range p.Districts {
		if x.ID == l.District {
			return true
		}
	}
	return false
}

// ladderNames reports whether the ladder of a names the person.
func (d *Dispatcher) ladderNames(a *alerting.Alert, person string) bool {
	_, l := d.cfg.ladder(a)
	if l == nil {
		return false
	}
	for i := range l.Levels {
		if slices.Contains(l.Levels[i].People, person) {
			return true
		}
	}
	return false
}

// describe words the link's alerts for the page.
func (h *ackHandler) describe(ids []int64, locale string, now time.Time) []pageAlert {
	d := h.d
	snap := d.reg.Current()
	out := make([]pageAlert, 0, len(ids))
	d.mu.Lock()
	docs := make([]*alerting.Alert, len(ids))
	for i, id := range ids {
		if t, ok := d.alerts[id]; ok {
			docs[i] = t.a.Clone()
		}
	}
	d.mu.Unlock()
	for i, id := range ids {
		pa := pageAlert{ID: id}
		if docs[i] == nil {
			pa.Title = map[bool]string{true: "Alert", false: "告警"}[locale == notify.LocaleEN]
			pa.Status = map[bool]string{true: "no longer open", false: "已结束"}[locale == notify.LocaleEN]
			out = append(out, pa)
			continue
		}
		m := &notify.Message{Kind: notify.KindForward, Severity: docs[i].Severity, Locale: locale, At: now.In(d.loc),
			Alerts: []notify.Alert{d.view(snap, docs[i])}}
		if err := notify.Render(m, d.loc); err == nil {
			pa.Title = m.Title
			lines := strings.Split(m.Text, "\n")
			if len(lines) > 1 {
				pa.Place = strings.Join(lines[1:], "\n")
			}
		}
		out = append(out, pa)
	}
	return out
}

var pageTemplate = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{.Heading}} · chargewatch</title>
<style>body{font-family:system-ui,sans-serif;margin:1.2em;max-width:40em;line-height:1.5}
.alert{border:1px solid #ccc;border-radius:6px;padding:.6em .8em;margin:.8em 0;white-space:pre-line}
.result{font-weight:bold}button{font-size:1.2em;padding:.6em 1.2em;width:100%;background:#c62828;color:#fff;border:0;border-radius:6px}</style>
</head><body>
<h1>{{.Heading}}</h1>
{{range .Alerts}}<div class="alert"><strong>#{{.ID}} {{.Title}}</strong>
{{.Place}}{{with .Status}}
{{.}}{{end}}{{with .Result}}
<span class="result">{{.}}</span>{{end}}</div>
{{end}}{{with .Text}}<p>{{.}}</p>{{end}}
{{if .Form}}<form method="post"><input type="hidden" name="confirm" value="yes"><button type="submit">{{.Button}}</button></form>{{end}}
</body></html>
`))
