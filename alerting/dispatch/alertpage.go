package dispatch

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/notify"
)

// The alert page is where the links of group-robot messages and
// Alertmanager's generatorURL lead (public_url + "/alerts/{id}"). Its
// response holds nothing but the alert's id: the page asks for the
// reader's own API token, keeps it in the browser's sessionStorage (gone
// when the tab closes), and reads and acts on the alert through the API
// (docs/api.md) with it, so that the API's scopes decide what the reader
// sees and may do. The page must be served from the same origin as
// /api/v1/ (its CSP allows connections to 'self' only).

// AlertPage serves the alert page. Mount it as the server does:
//
//	mux.Handle("GET /alerts/{id}", d.AlertPage())
//
// An id that is not a positive integer is 404.
func (d *Dispatcher) AlertPage() http.Handler { return AlertPage(d.cfg.Locale) }

// AlertPage serves the alert page in locale (zh or en) where no dispatcher
// runs (notifications not configured): the page needs only the API.
func AlertPage(locale string) http.Handler { return &alertPage{locale: locale} }

type alertPage struct{ locale string }

// alertPageCSP allows the page's own script and style (by hash), API
// calls to its own origin, and nothing else.
var alertPageCSP = "default-src 'none'; script-src " + cspHash(alertPageScript) + "; style-src " + cspHash(alertPageStyle) +
	"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

func (p *alertPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pageHeaders(w, alertPageCSP)
	hd := w.Header()
	raw := r.PathValue("id")
	if raw == "" {
		raw = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != raw {
		http.Error(w, "no such page: an alert's page is /alerts/{id} with a numeric id", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, r.Method+" is not allowed on an alert's page: use GET", http.StatusMethodNotAllowed)
		return
	}
	en := p.locale == notify.LocaleEN
	tr := func(zh, en_ string) string {
		if en {
			return en_
		}
		return zh
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	alertPageTemplate.Execute(w, map[string]any{
		"Lang":   map[bool]string{true: notify.LocaleEN, false: notify.LocaleZH}[en],
		"ID":     id,
		"Title":  tr("告警", "Alert"),
		"Words":  alertPageWords(map[bool]string{true: notify.LocaleEN, false: notify.LocaleZH}[en]),
		"Style":  template.HTML("<style>" + alertPageStyle + "</style>"),
		"Script": template.HTML("<script>" + alertPageScript + "</script>"),
	})
}

// alertPageWords are the names of hazards and severities in a locale, for
// the script: a JSON data block (it does not run, so the CSP does not
// apply to it), the same on every page.
func alertPageWords(locale string) template.HTML {
	w := map[string]map[string]string{"hazard": {}, "severity": {}}
	for _, r := range alerting.Rules() {
		w["hazard"][string(r)] = notify.Hazard(locale, r)
	}
	for s := alerting.SeverityInfo; s <= alerting.SeverityCritical; s++ {
		w["severity"][s.String()] = notify.SeverityName(locale, s)
	}
	b, _ := json.Marshal(w) // escapes <, > and &
	return template.HTML(`<script type="application/json" id="words">` + string(b) + `</script>`)
}

var alertPageTemplate = template.Must(template.New("alert").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>{{.Title}} #{{.ID}} · chargewatch</title>
{{.Style}}
</head><body>
<main id="app" data-alert="{{.ID}}">
<h1>{{.Title}} #{{.ID}}</h1>
<noscript><p>This page needs JavaScript. 本页面需要启用 JavaScript。</p></noscript>
</main>
{{.Words}}
{{.Script}}
</body></html>
`))

// alertPageStyle is the acknowledgement page's style, and the form's.
const alertPageStyle = `body{font-family:system-ui,sans-serif;margin:1.2em;max-width:40em;line-height:1.5}
.alert{border:1px solid #ccc;border-radius:6px;padding:.6em .8em;margin:.8em 0;white-space:pre-line}
.result{font-weight:bold}.error{color:#c62828;font-weight:bold}.muted{color:#666;font-size:.9em}
input,select,textarea{font-size:1.1em;width:100%;box-sizing:border-box;margin:.3em 0 .8em;padding:.4em}
button{font-size:1.2em;padding:.6em 1.2em;width:100%;background:#c62828;color:#fff;border:0;border-radius:6px;margin:.3em 0}
button.second{background:#455a64}button.link{background:none;color:#455a64;font-size:.9em;text-decoration:underline}
ul{padding-left:1.2em}`

// alertPageScript runs the page. Every API call goes through call(method,
// path) with a literal path, so that a test can check each against the
// API's routes.
const alertPageScript = `(function () {
'use strict';
const app = document.getElementById('app');
const id = app.dataset.alert;
const en = document.documentElement.lang === 'en';
const words = JSON.parse(document.getElementById('words').textContent);
const key = 'chargewatch_token';
const base = location.pathname.slice(0, location.pathname.lastIndexOf('/alerts/'));
const outcomes = ['rectified', 'false_alarm', 'referred'];
const T = en ? {
  token: 'Your API token', tokenHelp: 'The page keeps it in this tab only, until you close it.', show: 'Show the alert',
  forget: 'Forget my token', bad: 'The token was refused: enter it again.', loading: 'Loading…',
  place: 'Place', hazard: 'Hazard', severity: 'Severity', state: 'State', opened: 'Open since', evidence: 'Evidence',
  value: 'Value', ack: 'I take it on (acknowledge)', close: 'Close with an outcome', outcome: 'Outcome', note: 'What was found and done',
  noteNeeded: 'Write what was found and done.', done: 'Done.', deliveries: 'Notifications', acked: 'Acknowledged by',
  outcomes: {rectified: 'rectified', false_alarm: 'false alarm', referred: 'referred'}, relapse: 'relapse',
  states: {pending: 'pending', firing: 'firing', acknowledged: 'acknowledged', resolved: 'resolved', closed: 'closed', cancelled: 'cancelled'},
  status: {pending: 'pending', sent: 'sent', failed: 'failed', cancelled: 'cancelled'}, failed: 'Failed: '
} : {
  token: '您的 API 令牌', tokenHelp: '令牌只保存在本标签页中，关闭后即清除。', show: '查看告警',
  forget: '清除令牌', bad: '令牌无效，请重新输入。', loading: '加载中…',
  place: '位置', hazard: '隐患', severity: '级别', state: '状态', opened: '开始时间', evidence: '证据',
  value: '数值', ack: '我已接警，立即处置', close: '填写结果并结案', outcome: '处置结果', note: '现场情况和处置经过',
  noteNeeded: '请填写现场情况和处置经过。', done: '已完成。', deliveries: '通知记录', acked: '接警人',
  outcomes: {rectified: '已整改', false_alarm: '误报', referred: '已移交'}, relapse: '复发',
  states: {pending: '待定', firing: '告警中', acknowledged: '已接警', resolved: '已恢复', closed: '已结案', cancelled: '已取消'},
  status: {pending: '待发送', sent: '已发送', failed: '发送失败', cancelled: '已取消'}, failed: '失败：'
};

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k) e.append(k);
  return e;
}
function time(ms) {
  return new Date(ms).toLocaleString(en ? 'en-GB' : 'zh-CN', {timeZone: 'Asia/Shanghai', hour12: false});
}
function since(ms) {
  const m = Math.max(0, Math.round((Date.now() - ms) / 60000));
  if (m < 60) return en ? m + ' min' : m + ' 分钟';
  const h = Math.floor(m / 60);
  if (h >= 48) return en ? Math.floor(h / 24) + ' days' : Math.floor(h / 24) + ' 天';
  return en ? h + ' h ' + (m % 60) + ' min' : h + ' 小时 ' + (m % 60) + ' 分钟';
}
function reset(...kids) {
  app.replaceChildren(el('h1', {text: (en ? 'Alert #' : '告警 #') + id}), ...kids.filter(Boolean));
}

async function call(method, path, body) {
  const res = await fetch(base + path, {
    method: method, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    headers: Object.assign({'Authorization': 'Bearer ' + sessionStorage.getItem(key)},
      body ? {'Content-Type': 'application/json'} : {}),
    body: body ? JSON.stringify(body) : undefined
  });
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401) {
    sessionStorage.removeItem(key);
    askToken(T.bad);
    throw new Error('unauthorized');
  }
  if (!res.ok) throw new Error((data && data.error) || ('HTTP ' + res.status));
  return data;
}

function askToken(msg) {
  const input = el('input', {type: 'password', autocomplete: 'off', id: 'token', required: ''});
  const form = el('form', {}, el('label', {for: 'token', text: T.token}), input,
    el('p', {class: 'muted', text: T.tokenHelp}), el('button', {type: 'submit', text: T.show}));
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    const v = input.value.trim();
    if (!v) return;
    sessionStorage.setItem(key, v);
    load();
  });
  reset(msg ? el('p', {class: 'error', text: msg}) : null, form);
  input.focus();
}

function show(res, deliveries) {
  const a = res.alert, n = res.names || {}, l = a.location || {};
  const place = [n.district || l.district, n.street || l.street, n.community || l.community, n.building || l.building,
    n.room || n.unit || l.unit].filter(Boolean).join(' ') + (n.address ? '\n' + n.address : '') +
    (n.device || l.device ? '\n' + (n.device || l.device) : '');
  const rows = [
    [T.hazard, (words.hazard[a.rule] || a.rule) + (a.relapse ? ' (' + T.relapse + ')' : '')],
    [T.severity, words.severity[a.severity] || a.severity],
    [T.state, (T.states[a.state] || a.state) + (a.acked_by ? '\n' + T.acked + ': ' + a.acked_by : '')],
    [T.place, place],
    [T.opened, time(a.fired_at || a.started_at) + ' (' + since(a.fired_at || a.started_at) + ')'],
    [T.value, a.summary || (a.value + ' ' + (a.unit || '') + ' / ' + a.limit)]
  ];
  const info = el('div', {class: 'alert'});
  for (const [k, v] of rows) info.append(el('strong', {text: k + ': '}), v + '\n');
  const ev = el('ul');
  for (const s of a.evidence || []) {
    const vals = Object.entries(s.values || {}).map(([k, v]) => k + '=' + v).join(' ');
    ev.append(el('li', {text: time(s.ts) + ' ' + (s.device || '') + ' ' + [s.event, s.code, vals].filter(Boolean).join(' ')}));
  }
  const status = el('p', {class: 'result', role: 'status'});
  const kids = [info, el('h2', {text: T.evidence}), ev, status];
  const act = async function (path, body) {
    status.className = 'result';
    status.textContent = T.loading;
    try {
      if (path === 'ack') await call('POST', '/api/v1/alerts/' + id + '/ack', body);
      else await call('POST', '/api/v1/alerts/' + id + '/close', body);
      await load(T.done);
    } catch (e) {
      if (e.message !== 'unauthorized') { status.className = 'error'; status.textContent = T.failed + e.message; }
    }
  };
  if (a.state === 'firing') {
    const b = el('button', {type: 'button', text: T.ack});
    b.addEventListener('click', function () { act('ack', {note: ''}); });
    kids.push(b);
  }
  if (a.state === 'firing' || a.state === 'acknowledged' || a.state === 'resolved') {
    const sel = el('select', {id: 'outcome'});
    for (const o of outcomes) sel.append(el('option', {value: o, text: T.outcomes[o]}));
    const note = el('textarea', {id: 'note', rows: '3', maxlength: '2000'});
    const form = el('form', {}, el('h2', {text: T.close}), el('label', {for: 'outcome', text: T.outcome}), sel,
      el('label', {for: 'note', text: T.note}), note, el('button', {type: 'submit', class: 'second', text: T.close}));
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      if (!note.value.trim()) { status.className = 'error'; status.textContent = T.noteNeeded; return; }
      act('close', {outcome: sel.value, note: note.value});
    });
    kids.push(form);
  }
  if (deliveries && deliveries.length) {
    const ul = el('ul');
    for (const d of deliveries) {
      ul.append(el('li', {text: time(d.created_at) + ' ' + (d.person || d.channel) + ' · ' + d.channel + ' · ' +
        (T.status[d.status] || d.status) + (d.last_error ? ' (' + d.last_error + ')' : '')}));
    }
    kids.push(el('h2', {text: T.deliveries}), ul);
  }
  const forget = el('button', {type: 'button', class: 'link', text: T.forget});
  forget.addEventListener('click', function () { sessionStorage.removeItem(key); askToken(''); });
  kids.push(forget);
  reset(...kids);
  return status;
}

async function load(msg) {
  if (!sessionStorage.getItem(key)) { askToken(''); return; }
  reset(el('p', {text: T.loading}));
  let res;
  try {
    res = await call('GET', '/api/v1/alerts/' + id);
  } catch (e) {
    if (e.message !== 'unauthorized') reset(el('p', {class: 'error', text: e.message}));
    return;
  }
  let deliveries = null;
  try {
    deliveries = (await call('GET', '/api/v1/alerts/' + id + '/deliveries')).deliveries;
  } catch (e) {
    deliveries = null;
  }
  const status = show(res, deliveries);
  if (msg) status.textContent = msg;
}

load();
})();
`
