// Package notify is what chargewatch's notifiers share: the Notifier
// interface, the Message a notifier is given, typed delivery errors that
// separate permanent failures from retryable ones, secrets that never
// print, and the rendering of messages in Chinese (the default) and
// English with Asia/Shanghai times.
//
// Each integration is its own small package with its config beside it:
//
//	webhook       generic JSON webhook, signed with HMAC-SHA256
//	wecom         WeCom (企业微信) group robot, markdown
//	dingtalk      DingTalk (钉钉) group robot, markdown, timestamp+secret signature
//	sms           an SMS HTTP gateway driven by a request template
//	alertmanager  forwarding to Prometheus Alertmanager's v2 API
//
// Package dispatch decides who is told what and when (routing, grouping,
// the escalation ladder), keeps the outbox and calls the notifiers.
// docs/notifications.md describes the request formats.
package notify

import (
	"context"
	"time"

	"github.com/chargewatch/chargewatch/alerting"
)

// Notifier delivers one message. It returns nil once the receiver has
// accepted it; an error says whether trying again can help (see Error).
// Notify must honour ctx's deadline and must never put a secret in an
// error.
type Notifier interface {
	Notify(ctx context.Context, m *Message) error
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, m *Message) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, m *Message) error { return f(ctx, m) }

// Forwarder is a Notifier that mirrors alert state into another alerting
// system (Alertmanager) instead of messaging people. It receives every
// state change of every notified alert (Kind KindForward), and the active
// alerts again every ResendInterval, because the receiver expires alerts
// that are not re-sent.
type Forwarder interface {
	Notifier
	ResendInterval() time.Duration
}

// Kind is why a message is sent.
type Kind string

// Kinds of message.
const (
	KindFiring       Kind = "firing"       // first notice of an alert (or of its reopening)
	KindEscalation   Kind = "escalation"   // not acknowledged in time: the next level of the ladder is told
	KindReminder     Kind = "reminder"     // still not acknowledged
	KindAcknowledged Kind = "acknowledged" // someone took it on: the ladder stopped
	KindResolved     Kind = "resolved"     // the condition cleared (acknowledged or not)
	KindForward      Kind = "forward"      // state mirrored to a Forwarder
)

// Kinds lists every kind.
func Kinds() []Kind {
	return []Kind{KindFiring, KindEscalation, KindReminder, KindAcknowledged, KindResolved, KindForward}
}

// Recipient is who a message goes to and over which contact.
type Recipient struct {
	Person  string `json:"person,omitempty"` // registry person id; "" for a forward
	Name    string `json:"name,omitempty"`   // their name (names joined when people share a group robot)
	Channel string `json:"channel"`          // sms, webhook, wecom, dingtalk, alertmanager
	Address string `json:"address,omitempty"`
}

// Names are the display names of an alert's places.
type Names struct {
	District  string `json:"district,omitempty"`
	Street    string `json:"street,omitempty"`
	Community string `json:"community,omitempty"`
	Building  string `json:"building,omitempty"`
	Unit      string `json:"unit,omitempty"` // unit name (小卖部), if it has one
	Room      string `json:"room,omitempty"` // unit room number (101), if it has one
	Device    string `json:"device,omitempty"`
	Address   string `json:"address,omitempty"` // the building's street address
}

// Alert is one alert as a message shows it: the alert as committed by the
// engine (ids, times in Unix ms, evidence), the names of its places and
// the link to its page.
type Alert struct {
	alerting.Alert
	Names Names  `json:"names"`
	URL   string `json:"url,omitempty"` // the alert's page (asks for the reader's token)
}

// Message is one notification to one recipient, about one or more alerts
// of one place (grouped by building). Dispatch fills in everything but
// Title, Text and Markdown, which Render writes; notifiers only read it.
type Message struct {
	// ID is the delivery id: the outbox row, stable across retries, so a
	// receiver can drop duplicates.
	ID       int64             `json:"id"`
	Kind     Kind              `json:"kind"`
	Severity alerting.Severity `json:"severity"` // the highest of the alerts'
	// Level is the escalation level the message belongs to (0 the grid
	// worker), Targets the roles of that level.
	Level   int       `json:"level"`
	Targets []string  `json:"targets,omitempty"`
	Locale  string    `json:"locale"` // zh or en
	At      time.Time `json:"at"`     // when it was composed; "open for" is counted to here
	// Reminder counts the reminders of a KindReminder message (1 the first).
	Reminder  int       `json:"reminder,omitempty"`
	Recipient Recipient `json:"recipient"`
	// AckURL is the recipient's personal, signed, single-use link that
	// acknowledges the alerts. Only per-person channels (sms, webhook)
	// carry it; group robots link to the alert page instead.
	AckURL string  `json:"ack_url,omitempty"`
	Alerts []Alert `json:"alerts"`

	Title    string `json:"title"`    // one line
	Text     string `json:"text"`     // plain text, short enough for an SMS; with AckURL
	Markdown string `json:"markdown"` // for group robots; with the alert links, never AckURL
}

// PersonalChannel reports whether messages on a channel reach one person
// (and may carry their personal acknowledgement link) rather than a group.
func PersonalChannel(channel string) bool {
	return channel == "sms" || channel == "webhook" || channel == "email"
}
