package dispatch

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
	"github.com/chargewatch/chargewatch/alerting/engine"
	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/devices/registry"
)

// phase is where a followed alert is.
type phase string

const (
	phaseWaiting phase = "waiting" // its first notice waits for its group (group_wait)
	phaseActive  phase = "active"  // on its ladder: escalations and reminders until acknowledged
	phaseStopped phase = "stopped" // acknowledged, resolved, or nobody to notify: followed for notices and forwards only
)

const kindForward = notify.KindForward

// tracked is an alert the dispatcher follows, from its firing until it
// is closed.
type tracked struct {
	a          *alerting.Alert
	ladderKey  string
	ladder     *Ladder
	phase      phase
	dueAt      int64 // waiting: when the first notice goes out
	startLevel int   // level of the first notice
	base       int64 // level i is due at base + after(i)
	level      int   // highest level reached; -1 none
	nextRemind int64
	reminders  int
	notified   []string // person ids told
	dirty      bool
}

func (d *Dispatcher) restore(r alertRow) (*tracked, error) {
	t := &tracked{a: &alerting.Alert{}, phase: phase(r.phase), dueAt: r.dueAt, startLevel: r.startLevel, base: r.baseAt,
		level: r.level, nextRemind: r.nextRemind, reminders: r.reminders}
	if err := json.Unmarshal(r.doc, t.a); err != nil {
		return nil, fmt.Errorf("followed alert %d: corrupt document: %w", r.id, err)
	}
	if err := json.Unmarshal(r.notified, &t.notified); err != nil {
		return nil, fmt.Errorf("followed alert %d: corrupt notified list: %w", r.id, err)
	}
	t.ladderKey, t.ladder = d.cfg.ladder(t.a)
	if t.level >= len(t.ladder.Levels) {
		t.level = len(t.ladder.Levels) - 1 // the ladder was shortened since
	}
	return t, nil
}

// groupKey is what alerts are grouped by: their building, or the most
// precise place they have.
func groupKey(a *alerting.Alert) string {
	l := &a.Location
	switch {
	case l.Building != "":
		return "b/" + l.Building
	case l.Community != "":
		return "c/" + l.Community
	case l.Street != "":
		return "s/" + l.Street
	}
	return "p/" + a.Place
}

// contact is one way to reach a person.
type contact struct {
	Channel string `json:"channel"`
	Address string `json:"address"`
}

// send is one person to tell about one alert.
type send struct {
	t     *tracked
	a     *alerting.Alert // the alert as it is now (t.a may change later in the step)
	p     *registry.Person
	level int
	kind  notify.Kind
}

// fwd is one alert state to forward.
type fwd struct {
	a       *alerting.Alert
	channel string
}

// step collects what one routing step changes, written in one
// transaction.
type step struct {
	now       int64
	cursor    int64
	cursorSet bool
	dirty     []*tracked
	deleted   []int64
	cancel    []int64
	sends     []send
	fwds      []fwd
	rows      []*newRow
	counts    map[string]int // metrics to count after the commit: escalation/<sev>, reminder/<sev>, ...
}

func (st *step) touch(t *tracked) {
	if !t.dirty {
		t.dirty = true
		st.dirty = append(st.dirty, t)
	}
}

func (st *step) empty() bool {
	return len(st.dirty) == 0 && len(st.deleted) == 0 && len(st.cancel) == 0 && len(st.rows) == 0 && !st.cursorSet
}

// route runs one routing step: new transitions (or a catch-up from the
// audit log), then due group waits, escalations and reminders; it commits
// the result and wakes the sender.
func (d *Dispatcher) route(ctx context.Context, first []engine.Transition) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	st := &step{now: now.UnixMilli(), cursor: d.cursor, counts: map[string]int{}}
	catchUp := d.src != nil && d.behind.Swap(false)
	var batches [][]engine.Transition
	if first != nil {
		batches = append(batches, first)
	}
drain:
	for {
		select {
		case b := <-d.inbox:
			batches = append(batches, b)
		default:
			break drain
		}
	}
	if catchUp {
		// The audit log has every transition that reached the inbox, and
		// those that did not: route from it. Batches drained above were
		// committed before this read, so the log holds them too.
		if err := d.catchUp(ctx, st); err != nil {
			d.behind.Store(true)
			d.reset(ctx, st)
			return fmt.Errorf("catch up from the audit log: %w", err)
		}
		d.fresh = false
	} else {
		for _, b := range batches {
			for i := range b {
				d.apply(st, b[i].Audit, b[i].Alert, false)
			}
		}
	}
	d.due(st, now)
	snap := d.reg.Current()
	d.compose(st, snap, now)
	if st.empty() {
		return nil
	}
	ids, err := d.db.commit(ctx, st)
	if err != nil {
		d.reset(ctx, st)
		if d.src != nil {
			d.behind.Store(true)
		}
		return fmt.Errorf("commit %d messages: %w", len(st.rows), err)
	}
	for _, t := range st.dirty {
		t.dirty = false
	}
	d.cursor, d.fresh = st.cursor, false
	for _, r := range st.rows {
		d.m.message(r.kind)
	}
	for k, n := range st.counts {
		d.m.count(k, n)
	}
	if len(ids) > 0 {
		d.wake()
	}
	return nil
}

// reset undoes a failed step by reloading the state from the database.
func (d *Dispatcher) reset(ctx context.Context, st *step) {
	for _, t := range st.dirty {
		t.dirty = false
	}
	if err := d.load(ctx); err != nil {
		d.log.Error("reloading the dispatch state failed", "err", err)
	}
}

// catchUp routes the audit log after the cursor.
func (d *Dispatcher) catchUp(ctx context.Context, st *step) error {
	const page = 500
	n := 0
	for {
		aus, err := d.src.AuditSince(ctx, st.cursor, page)
		if err != nil {
			return err
		}
		if len(aus) == 0 {
			break
		}
		ids := make([]int64, 0, len(aus))
		for _, au := range aus {
			ids = append(ids, au.AlertID)
		}
		slices.Sort(ids)
		docs, err := d.src.AlertsByID(ctx, slices.Compact(ids))
		if err != nil {
			return err
		}
		for _, au := range aus {
			d.apply(st, au, docs[au.AlertID], true)
		}
		n += len(aus)
		if len(aus) < page {
			break
		}
	}
	if n > 0 {
		d.log.Info("caught up from the audit log", "transitions", n, "cursor", st.cursor)
	}
	return nil
}

// apply routes one transition. a is the alert as committed with it (or,
// in a catch-up, as it is now).
func (d *Dispatcher) apply(st *step, au alerting.Audit, a *alerting.Alert, catchUp bool) {
	if au.ID <= st.cursor {
		return
	}
	st.cursor, st.cursorSet = au.ID, true
	if a == nil {
		return
	}
	t := d.alerts[a.ID]
	switch au.Action {
	case alerting.ActionFire, alerting.ActionReopen:
		if a.SilenceID != 0 {
			st.counts["silenced"]++
			return
		}
		if t == nil {
			t = &tracked{a: a, level: -1, phase: phaseStopped}
			t.ladderKey, t.ladder = d.cfg.ladder(a)
			d.alerts[a.ID] = t
		}
		t.a = a
		st.touch(t)
		if a.State != alerting.StateFiring {
			return // acknowledged or resolved since: a later transition says so
		}
		d.forward(st, t)
		levels := t.ladder.Levels
		if len(levels) == 0 {
			t.phase = phaseStopped
			return
		}
		start := 0
		if a.Relapse {
			start = 1 // a relapse starts one level higher
		}
		if au.Action == alerting.ActionReopen {
			start = max(start, t.level) // back where it was
		}
		start = min(start, len(levels)-1)
		// The ladder counts from the transition's commit, so that time spent
		// down counts; but a new database routing old history starts now.
		at := au.At
		if (catchUp && d.fresh) || at <= 0 || at > st.now {
			at = st.now
		}
		t.startLevel, t.level, t.reminders, t.nextRemind = start, -1, 0, 0
		if a.Severity >= alerting.SeverityCritical || d.cfg.GroupWait == 0 {
			d.begin(st, t, at)
			return
		}
		t.phase = phaseWaiting
		t.dueAt = at + d.cfg.GroupWait.Milliseconds()
		// Join a group of the same building that is already waiting.
		g := groupKey(a)
		for _, o := range d.alerts {
			if o != t && o.phase == phaseWaiting && groupKey(o.a) == g && o.dueAt > st.now && o.dueAt < t.dueAt {
				t.dueAt = o.dueAt
			}
		}
	case alerting.ActionAck:
		if t == nil {
			return
		}
		t.a = a
		st.touch(t)
		d.stop(st, t)
		d.forward(st, t)
		if d.cfg.NotifyAcknowledged {
			d.notice(st, t, notify.KindAcknowledged, a.AckedBy)
		}
	case alerting.ActionResolve:
		if t == nil {
			return
		}
		t.a = a
		st.touch(t)
		d.stop(st, t)
		d.forward(st, t)
		if a.ResolvedUnacked {
			st.counts["resolved_unacked"]++
		}
		if d.cfg.NotifyResolved {
			d.notice(st, t, notify.KindResolved, "")
		}
	case alerting.ActionClose:
		if t == nil {
			return
		}
		t.a = a
		d.stop(st, t)
		d.forward(st, t)
		delete(d.alerts, a.ID)
		st.deleted = append(st.deleted, a.ID)
		if t.dirty {
			st.dirty = slices.DeleteFunc(st.dirty, func(x *tracked) bool { return x == t })
			t.dirty = false
		}
	}
}

// stop takes an alert off its ladder and cancels its pending ladder
// messages (those about no other alert still on one).
func (d *Dispatcher) stop(st *step, t *tracked) {
	t.phase = phaseStopped
	t.nextRemind = 0
	st.cancel = append(st.cancel, t.a.ID)
}

// begin sends an alert's first notice at at: every level up to its start
// level at once.
func (d *Dispatcher) begin(st *step, t *tracked, at int64) {
	t.phase = phaseActive
	t.base = at - t.ladder.Levels[t.startLevel].After.Milliseconds()
	if t.ladder.RemindEvery > 0 {
		t.nextRemind = at + t.ladder.RemindEvery.Milliseconds()
	}
	if o := d.joinable(t); o != nil {
		// Escalate and remind with the earlier alert of the building.
		t.base = o.base
		if o.nextRemind > at && t.nextRemind != 0 {
			t.nextRemind = min(t.nextRemind, o.nextRemind)
		}
	}
	d.reach(st, t, t.startLevel, at, notify.KindFiring)
}

// joinable returns the alert whose ladder t joins (Config.JoinWindow): the
// earliest active, unacknowledged alert of the same building, ladder and
// start level that has not escalated beyond it and began at most
// JoinWindow before t. Nil if there is none.
func (d *Dispatcher) joinable(t *tracked) *tracked {
	if d.cfg.JoinWindow <= 0 {
		return nil
	}
	g := groupKey(t.a)
	var best *tracked
	for _, o := range d.alerts {
		if o == t || o.phase != phaseActive || o.a.State != alerting.StateFiring || o.ladderKey != t.ladderKey ||
			o.startLevel != t.startLevel || o.level != t.startLevel || o.base >= t.base ||
			t.base-o.base > d.cfg.JoinWindow.Milliseconds() || groupKey(o.a) != g {
			continue
		}
		if best == nil || o.base < best.base || (o.base == best.base && o.a.ID < best.a.ID) {
			best = o
		}
	}
	return best
}

// reach tells the levels above the alert's current one up to target. A
// level with nobody on duty passes the alert on to the next level at
// once.
func (d *Dispatcher) reach(st *step, t *tracked, target int, at int64, kind notify.Kind) {
	levels := t.ladder.Levels
	for i := t.level + 1; i <= target && i < len(levels); i++ {
		t.level = i
		people := d.levelPeople(t.a, &levels[i], time.UnixMilli(at))
		if kind == notify.KindEscalation {
			st.counts["escalation/"+t.a.Severity.String()]++
		}
		if len(people) == 0 {
			st.counts["no_recipient/"+t.a.Severity.String()]++
			d.log.Warn("nobody on duty for an escalation level; moving on", "alert", t.a.ID, "level", i,
				"to", strings.Join(levels[i].To, ","), "community", t.a.Location.Community)
			if i == target && i+1 < len(levels) {
				target++
			}
			continue
		}
		for _, p := range people {
			st.sends = append(st.sends, send{t: t, a: t.a, p: p, level: i, kind: kind})
			if !slices.Contains(t.notified, p.ID) {
				t.notified = append(t.notified, p.ID)
			}
		}
	}
	st.touch(t)
}

// notice tells everyone who was told about an alert that it was
// acknowledged or resolved, except the person named except.
func (d *Dispatcher) notice(st *step, t *tracked, kind notify.Kind, except string) {
	snap := d.reg.Current()
	for _, id := range t.notified {
		if id == except {
			continue
		}
		if p, ok := snap.Person(id); ok {
			st.sends = append(st.sends, send{t: t, a: t.a, p: p, level: max(t.level, 0), kind: kind})
		}
	}
}

// forward queues the alert's state for every forwarder.
func (d *Dispatcher) forward(st *step, t *tracked) {
	for name := range d.forwarders {
		st.fwds = append(st.fwds, fwd{a: t.a.Clone(), channel: name})
	}
}

// due moves waiting groups out, and escalates and reminds active alerts.
func (d *Dispatcher) due(st *step, now time.Time) {
	var ready []*tracked
	for _, t := range d.alerts {
		if t.phase == phaseWaiting && t.dueAt <= st.now {
			ready = append(ready, t)
		}
	}
	slices.SortFunc(ready, func(a, b *tracked) int { return cmp.Compare(a.a.ID, b.a.ID) })
	for _, t := range ready {
		// The whole group goes out now, and its ladders count from now, so
		// that their escalations and reminders stay together too.
		d.begin(st, t, st.now)
	}
	var active []*tracked
	for _, t := range d.alerts {
		if t.phase == phaseActive && t.a.State == alerting.StateFiring {
			active = append(active, t)
		}
	}
	slices.SortFunc(active, func(a, b *tracked) int { return cmp.Compare(a.a.ID, b.a.ID) })
	for _, t := range active {
		levels := t.ladder.Levels
		before := t.level
		for t.level+1 < len(levels) && t.base+levels[t.level+1].After.Milliseconds() <= st.now {
			d.reach(st, t, t.level+1, st.now, notify.KindEscalation)
		}
		l := t.ladder
		if l.RemindEvery <= 0 || t.nextRemind == 0 || t.nextRemind > st.now {
			continue
		}
		for t.nextRemind <= st.now {
			t.nextRemind += l.RemindEvery.Milliseconds()
		}
		if l.MaxReminders > 0 && t.reminders >= l.MaxReminders {
			t.nextRemind = 0
			st.touch(t)
			continue
		}
		t.reminders++
		st.counts["reminder/"+t.a.Severity.String()]++
		// Everyone on duty at the levels reached before this step; the
		// levels reached in this step have just been told.
		var people []*registry.Person
		for i := 0; i <= before; i++ {
			for _, p := range d.levelPeople(t.a, &levels[i], now) {
				if !slices.Contains(people, p) {
					people = append(people, p)
				}
			}
		}
		for _, p := range people {
			st.sends = append(st.sends, send{t: t, a: t.a, p: p, level: before, kind: notify.KindReminder})
			if !slices.Contains(t.notified, p.ID) {
				t.notified = append(t.notified, p.ID)
			}
		}
		st.touch(t)
	}
}

// nextDue returns when the next group wait, escalation or reminder is due.
func (d *Dispatcher) nextDue() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var next int64
	upd := func(v int64) {
		if v > 0 && (next == 0 || v < next) {
			next = v
		}
	}
	for _, t := range d.alerts {
		switch {
		case t.phase == phaseWaiting:
			upd(t.dueAt)
		case t.phase == phaseActive && t.a.State == alerting.StateFiring:
			if t.level+1 < len(t.ladder.Levels) {
				upd(t.base + t.ladder.Levels[t.level+1].After.Milliseconds())
			}
			upd(t.nextRemind)
		}
	}
	return time.UnixMilli(next), next != 0
}

// levelPeople returns the people of a level for an alert at time at.
func (d *Dispatcher) levelPeople(a *alerting.Alert, lv *Level, at time.Time) []*registry.Person {
	snap := d.reg.Current()
	l := &a.Location
	var out []*registry.Person
	add := func(ps []*registry.Person, role registry.Role) {
		for _, p := range ps {
			if p.Roles.Has(role) && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	for _, to := range lv.To {
		switch to {
		case ToGridWorker:
			add(snap.OnDuty(l.Community, at), registry.RoleGridWorker)
		case ToStreetOfficer:
			add(snap.OnDutyStreet(l.Street, at), registry.RoleStreetOfficer)
		case ToDistrictOfficer:
			add(snap.OnDutyDistrict(l.District, at), registry.RoleDistrictOfficer)
		case ToFireBrigade:
			add(snap.OnDutyDistrict(l.District, at), registry.RoleFireBrigade)
		}
	}
	for _, id := range lv.People {
		p, ok := snap.Person(id)
		if !ok {
			d.log.Warn("escalation level names a person not in the registry", "person", id)
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// contacts returns a person's contacts on configured channels, in their
// order of preference.
func (d *Dispatcher) contacts(p *registry.Person) []contact {
	var out []contact
	for _, c := range p.Contacts {
		ch := c.Channel.String()
		if n, ok := d.notifiers[ch]; ok {
			if _, fwd := n.(notify.Forwarder); !fwd {
				out = append(out, contact{Channel: ch, Address: c.Address})
			}
		}
	}
	return out
}

// group is the sends that become one message.
type group struct {
	kind     notify.Kind
	to       contact
	fallback []contact
	people   []*registry.Person
	alerts   []send
}

// compose turns the step's sends and forwards into outbox rows: one
// message per contact, building and kind.
func (d *Dispatcher) compose(st *step, snap *registry.Snapshot, now time.Time) {
	at := now.In(d.loc)
	for _, f := range st.fwds {
		m := &notify.Message{Kind: kindForward, Severity: f.a.Severity, Locale: d.cfg.Locale, At: at,
			Recipient: notify.Recipient{Channel: f.channel}, Alerts: []notify.Alert{d.view(snap, f.a)}}
		d.addRow(st, m, nil, "", 0, []int64{f.a.ID})
	}
	groups := map[string]*group{}
	var order []string
	for _, s := range st.sends {
		switch s.kind {
		case notify.KindFiring, notify.KindEscalation, notify.KindReminder:
			// Acknowledged, resolved or closed later in the same step.
			if t, ok := d.alerts[s.a.ID]; !ok || t.phase == phaseStopped {
				continue
			}
		}
		cs := d.contacts(s.p)
		if len(cs) == 0 {
			st.counts["no_channel"]++
			d.log.Warn("person has no contact on a configured channel; not notified", "person", s.p.ID, "alert", s.a.ID)
			continue
		}
		to := cs[0]
		key := to.Channel + "\x00" + to.Address
		if notify.PersonalChannel(to.Channel) {
			key += "\x00" + s.p.ID
		}
		key += "\x00" + groupKey(s.a) + "\x00" + string(s.kind)
		g := groups[key]
		if g == nil {
			g = &group{kind: s.kind, to: to, fallback: cs[1:]}
			groups[key] = g
			order = append(order, key)
		}
		if !slices.Contains(g.people, s.p) {
			g.people = append(g.people, s.p)
		}
		if i := slices.IndexFunc(g.alerts, func(x send) bool { return x.a.ID == s.a.ID }); i >= 0 {
			if s.level > g.alerts[i].level {
				g.alerts[i] = s
			}
			continue
		}
		g.alerts = append(g.alerts, s)
	}
	for _, key := range order {
		g := groups[key]
		slices.SortFunc(g.alerts, func(a, b send) int {
			return cmp.Or(cmp.Compare(b.a.Severity, a.a.Severity), cmp.Compare(a.a.ID, b.a.ID))
		})
		for chunk := range slices.Chunk(g.alerts, d.cfg.GroupMax) {
			d.message(st, snap, at, g, chunk)
		}
	}
}

// message composes one message of a group.
func (d *Dispatcher) message(st *step, snap *registry.Snapshot, at time.Time, g *group, sends []send) {
	personal := notify.PersonalChannel(g.to.Channel)
	first := g.people[0]
	m := &notify.Message{Kind: g.kind, Locale: d.cfg.Locale, At: at, Level: -1}
	if personal && first.Locale != "" {
		m.Locale = first.Locale
	}
	names := make([]string, 0, len(g.people))
	for _, p := range g.people {
		names = append(names, p.Name)
	}
	sep := "、"
	if m.Locale == notify.LocaleEN {
		sep = ", "
	}
	m.Recipient = notify.Recipient{Person: first.ID, Name: strings.Join(names, sep), Channel: g.to.Channel, Address: g.to.Address}
	var ids, ackable []int64
	for _, s := range sends {
		a := s.a
		ids = append(ids, a.ID)
		m.Severity = max(m.Severity, a.Severity)
		if s.level > m.Level {
			m.Level = s.level
			if s.level < len(s.t.ladder.Levels) {
				m.Targets = targets(&s.t.ladder.Levels[s.level])
			}
		}
		if g.kind == notify.KindReminder {
			m.Reminder = max(m.Reminder, s.t.reminders)
		}
		if a.State == alerting.StateFiring {
			ackable = append(ackable, a.ID)
		}
		m.Alerts = append(m.Alerts, d.view(snap, a))
	}
	m.Level = max(m.Level, 0)
	switch g.kind {
	case notify.KindFiring, notify.KindEscalation, notify.KindReminder:
		// Made for group robots too: the robot's markdown never shows it,
		// but a fallback to the person's sms or webhook does.
		if len(ackable) > 0 {
			tok := d.signLink(linkClaims{alerts: ackable, person: first.ID, expires: at.Add(d.cfg.AckLink.TTL).Unix(), nonce: newNonce()})
			m.AckURL = d.cfg.ackURL(tok)
		}
	}
	d.addRow(st, m, g.fallback, first.ID, m.Level, ids)
}

func targets(lv *Level) []string {
	out := slices.Clone(lv.To)
	if len(lv.People) > 0 {
		out = append(out, "people")
	}
	return out
}

// addRow renders m and queues its outbox row.
func (d *Dispatcher) addRow(st *step, m *notify.Message, fallback []contact, person string, level int, ids []int64) {
	if err := notify.Render(m, d.loc); err != nil {
		d.log.Error("rendering a message failed", "kind", m.Kind, "err", err)
		return
	}
	b, err := json.Marshal(m)
	if err != nil {
		d.log.Error("encoding a message failed", "kind", m.Kind, "err", err)
		return
	}
	st.rows = append(st.rows, &newRow{
		createdAt: st.now, kind: string(m.Kind), channel: m.Recipient.Channel, person: person, address: m.Recipient.Address,
		level: level, severity: int(m.Severity), message: b, fallback: fallback, nextAt: st.now, alerts: ids,
	})
}

// view is an alert as messages show it: with the names of its places.
func (d *Dispatcher) view(snap *registry.Snapshot, a *alerting.Alert) notify.Alert {
	v := notify.Alert{Alert: *a.Clone(), URL: d.cfg.alertURL(a.ID)}
	l, n := &a.Location, &v.Names
	// A place the registry no longer has is shown by its id.
	x := snap.Names(l.District, l.Street, l.Community, l.Building, l.Unit, l.Device)
	n.District, n.Street, n.Community = cmp.Or(x.District, l.District), cmp.Or(x.Street, l.Street), cmp.Or(x.Community, l.Community)
	n.Building, n.Address, n.Device = cmp.Or(x.Building, l.Building), x.Address, cmp.Or(x.Device, l.Device)
	n.Unit, n.Room = x.Unit, x.Room
	if n.Unit == "" && n.Room == "" {
		n.Unit = l.Unit
	}
	return v
}
