package notify

import (
	"cmp"
	"embed"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/chargewatch/chargewatch/alerting"
)

//go:embed templates/*.tmpl
var templateFiles embed.FS

// templates holds the parsed layout of each locale: templates/zh.tmpl and
// templates/en.tmpl, each defining "title", "text" and "markdown".
var templates = map[string]*template.Template{
	LocaleZH: template.Must(template.New("zh.tmpl").Funcs(funcs).ParseFS(templateFiles, "templates/zh.tmpl")),
	LocaleEN: template.Must(template.New("en.tmpl").Funcs(funcs).ParseFS(templateFiles, "templates/en.tmpl")),
}

var funcs = template.FuncMap{"inc": func(i int) int { return i + 1 }}

// MaxEvidenceLines is how many evidence samples a message shows per alert.
const MaxEvidenceLines = 3

// view is what the templates see: the message and, per alert, its parts
// already worded in the message's locale.
type view struct {
	M      *Message
	Tag    string // 紧急, 升级·严重, ...
	Where  string // short place of the message (building, or the one alert's building and unit)
	Place  string // full place when all alerts share a building
	Addr   string
	One    bool
	Alerts []alertView
	Note   string
	Link   string // the alert page, when the message has one alert
}

type alertView struct {
	*Alert
	Hazard   string
	Severity string
	Where    string // building and unit
	Place    string // district ... unit
	Area     string // district ... building
	Spot     string // unit, or device, within the building
	Evidence string
	Status   string
}

// Render writes m's Title, Text and Markdown in m.Locale (Chinese unless
// "en"), with times in loc (Asia/Shanghai in production).
func Render(m *Message, loc *time.Location) error {
	locale := m.Locale
	if locale != LocaleEN {
		locale = LocaleZH
	}
	w := wordsFor(locale)
	v := &view{M: m, One: len(m.Alerts) == 1}
	v.Tag = w.tag(m)
	for i := range m.Alerts {
		v.Alerts = append(v.Alerts, w.alert(&m.Alerts[i], m, loc))
	}
	if len(v.Alerts) > 0 {
		a := v.Alerts[0]
		v.Where, v.Place, v.Addr = a.Where, a.Place, a.Names.Address
		if !v.One {
			v.Where = a.Names.Building
			if v.Where == "" {
				v.Where = a.Names.Street
			}
			v.Place = a.Area
		}
		if v.One {
			v.Link = a.URL
		}
	}
	v.Note = w.note(m)
	t := templates[locale]
	out := map[string]*string{"title": &m.Title, "text": &m.Text, "markdown": &m.Markdown}
	for _, name := range []string{"title", "text", "markdown"} {
		var b strings.Builder
		if err := t.ExecuteTemplate(&b, name, v); err != nil {
			return fmt.Errorf("render %s message (%s): %w", m.Kind, name, err)
		}
		*out[name] = tidy(b.String())
	}
	m.Title = strings.ReplaceAll(m.Title, "\n", " ")
	return nil
}

// Place words an alert's full place in a locale: district, street,
// community, building, unit (and port).
func Place(locale string, a *Alert) string {
	return wordsFor(locale).alert(a, &Message{}, time.UTC).Place
}

// tidy trims each line and drops empty ones.
func tidy(s string) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// unit words a unit: its room and its name.
func (w *words) unit(n *Names) string {
	switch {
	case n.Room != "" && n.Unit != "":
		return w.room(n.Room) + w.pick("（"+n.Unit+"）", " ("+n.Unit+")")
	case n.Room != "":
		return w.room(n.Room)
	}
	return n.Unit
}

func (w *words) tag(m *Message) string {
	sev := SeverityName(localeOf(w), m.Severity)
	switch m.Kind {
	case KindEscalation:
		return w.pick("升级·", "ESCALATED · ") + sev
	case KindReminder:
		return w.pick("提醒·", "REMINDER · ") + sev
	case KindAcknowledged:
		return w.pick("已确认", "ACKNOWLEDGED")
	case KindResolved:
		return w.pick("已恢复", "RESOLVED")
	}
	return sev
}

func localeOf(w *words) string {
	if w == en {
		return LocaleEN
	}
	return LocaleZH
}

func (w *words) pick(zhs, ens string) string {
	if w == en {
		return ens
	}
	return zhs
}

func (w *words) alert(a *Alert, m *Message, loc *time.Location) alertView {
	v := alertView{Alert: a, Hazard: Hazard(localeOf(w), a.Rule), Severity: SeverityName(localeOf(w), a.Severity)}
	n := &a.Names
	unit := w.unit(n)
	v.Where = strings.TrimSpace(n.Building + " " + unit)
	if v.Where == "" {
		v.Where = strings.TrimSpace(n.Street + " " + n.Community)
	}
	var parts []string
	for _, p := range []string{n.District, n.Street, n.Community, n.Building} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	v.Area = strings.Join(parts, " ")
	if unit != "" {
		parts = append(parts, unit)
	}
	v.Place = strings.Join(parts, " ")
	if a.Port != 0 {
		v.Place += w.pick(fmt.Sprintf(" %d号端口", a.Port), fmt.Sprintf(" port %d", a.Port))
	}
	v.Spot = unit
	if v.Spot == "" && a.Location.Device != "" {
		v.Spot = strings.TrimSpace(w.kinds[a.Location.Kind] + " " + cmp.Or(n.Device, a.Location.Device))
	}
	v.Evidence = w.evidence(a, loc)
	v.Status = w.status(a, m, loc)
	return v
}

// evidence words what was measured: the worst value against its limit,
// then the last few samples.
func (w *words) evidence(a *Alert, loc *time.Location) string {
	var parts []string
	switch {
	case a.Unit != "" && a.Limit != 0:
		parts = append(parts, w.pick(
			fmt.Sprintf("测得 %s %s（阈值 %s %s）", number(a.Value), a.Unit, number(a.Limit), a.Unit),
			fmt.Sprintf("measured %s %s (limit %s %s)", number(a.Value), a.Unit, number(a.Limit), a.Unit)))
	case a.Unit != "":
		parts = append(parts, w.pick("测得 ", "measured ")+number(a.Value)+" "+a.Unit)
	}
	if a.Code != "" {
		parts = append(parts, w.pick("代码 ", "code ")+a.Code)
	}
	ev := a.Evidence
	if len(ev) > MaxEvidenceLines {
		ev = ev[len(ev)-MaxEvidenceLines:]
	}
	for _, s := range ev {
		var b strings.Builder
		b.WriteString(time.UnixMilli(s.TS).In(loc).Format("15:04:05"))
		dev := s.Device
		if dev == "" {
			dev = a.Location.Device
		}
		if k := w.kinds[a.Location.Kind]; k != "" && dev == a.Location.Device {
			dev = k + " " + dev
		}
		if dev != "" {
			b.WriteString(" " + dev)
		}
		if s.Port != 0 {
			b.WriteString(w.pick(fmt.Sprintf(" %d号端口", s.Port), fmt.Sprintf(" port %d", s.Port)))
		}
		if s.Event != "" {
			e := w.events[s.Event]
			if e == "" {
				e = s.Event
			}
			b.WriteString(" " + e)
		}
		switch {
		case s.Code != "" && a.Rule == alerting.RuleIndoorCharging:
			b.WriteString(w.pick(" 判定依据 ", " confirmed by ") + w.chargePath(s.Code))
		case s.Code != "":
			b.WriteString(w.pick(" 代码 ", " code ") + s.Code)
		}
		keys := make([]string, 0, len(s.Values))
		for k := range s.Values {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(" " + w.field(k, s.Values[k]))
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, w.list)
}

// status words how long the alert has been open and who has it.
func (w *words) status(a *Alert, m *Message, loc *time.Location) string {
	since := a.StartedAt
	if since == 0 {
		since = a.FiredAt
	}
	start := time.UnixMilli(since).In(loc)
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	stamp := func(ms int64) string {
		t := time.UnixMilli(ms).In(loc)
		if t.YearDay() == at.In(loc).YearDay() && t.Year() == at.In(loc).Year() {
			return t.Format("15:04")
		}
		return t.Format("01-02 15:04")
	}
	open := w.duration(at.Sub(start))
	switch {
	case a.State == alerting.StateAcknowledged || (a.AckedAt != 0 && a.State != alerting.StateResolved && a.State != alerting.StateClosed):
		return w.pick(
			fmt.Sprintf("已由 %s 于 %s 确认；已持续 %s（%s 起）", a.AckedBy, stamp(a.AckedAt), open, stamp(since)),
			fmt.Sprintf("acknowledged by %s at %s; open for %s (since %s)", a.AckedBy, stamp(a.AckedAt), open, stamp(since)))
	case a.State == alerting.StateResolved || a.ResolvedAt != 0:
		lasted := w.duration(time.UnixMilli(a.ResolvedAt).Sub(start))
		s := w.pick(
			fmt.Sprintf("已于 %s 恢复，持续 %s", stamp(a.ResolvedAt), lasted),
			fmt.Sprintf("resolved at %s after %s", stamp(a.ResolvedAt), lasted))
		if a.ResolvedUnacked {
			s += w.pick("，期间无人确认", ", nobody acknowledged it")
		} else if a.AckedBy != "" {
			s += w.pick("，由 "+a.AckedBy+" 确认", ", acknowledged by "+a.AckedBy)
		}
		return s
	}
	return w.pick(
		fmt.Sprintf("已持续 %s（%s 起），未确认", open, stamp(since)),
		fmt.Sprintf("open for %s (since %s), not acknowledged", open, stamp(since)))
}

// note is the message's closing line: what is asked of the reader.
func (w *words) note(m *Message) string {
	targets := make([]string, 0, len(m.Targets))
	for _, t := range m.Targets {
		if n, ok := w.targets[t]; ok {
			t = n
		}
		targets = append(targets, t)
	}
	tl := strings.Join(targets, w.pick("、", ", "))
	switch m.Kind {
	case KindEscalation:
		return w.pick("未在规定时间内确认，已升级通知"+tl+"。请立即处置并确认。",
			"Not acknowledged in time: escalated to the "+tl+". Act now and acknowledge.")
	case KindReminder:
		return w.pick(fmt.Sprintf("第%d次提醒：仍未确认，请尽快到场处置并确认。", m.Reminder),
			fmt.Sprintf("Reminder %d: still not acknowledged. Go to the site and acknowledge.", m.Reminder))
	case KindAcknowledged:
		return w.pick("已有人接警，升级已停止。", "Someone has taken it on; escalation stopped.")
	case KindResolved:
		unacked := false
		for _, a := range m.Alerts {
			unacked = unacked || a.ResolvedUnacked
		}
		if unacked {
			return w.pick("告警未经确认即已恢复：仍须到场核查，并在系统中填写处置结果结案。",
				"It cleared without anyone acknowledging it: the site still needs a check, and the alert a close with its outcome.")
		}
		return w.pick("请在系统中填写处置结果结案。", "Close it with its outcome once the site is checked.")
	case KindForward:
		return ""
	}
	reopen := false
	for _, a := range m.Alerts {
		reopen = reopen || a.Reopens > 0
	}
	s := ""
	if reopen {
		s = w.pick("告警在恢复后再次触发。", "The condition came back after clearing. ")
	}
	if m.Severity >= alerting.SeverityCritical {
		return s + w.pick("请立即到场处置并确认！", "Go to the site NOW and acknowledge.")
	}
	return s + w.pick("请尽快到场核查处置并确认。", "Check the site soon and acknowledge.")
}

// Truncate cuts s to at most n bytes at a rune boundary, marking the cut.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	s = s[:n-len(mark)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + mark
}
