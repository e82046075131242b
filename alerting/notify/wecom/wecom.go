// Package wecom delivers chargewatch notifications to WeCom (企业微信)
// group robots as markdown messages.
//
// # Request
//
//	POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY
//	Content-Type: application/json
//
//	{"msgtype":"markdown","markdown":{"content":"### 【紧急】烟感报警｜..."}}
//
// The robot answers {"errcode":0,"errmsg":"ok"}; any other errcode is a
// failure. 45009 (too many messages: a robot takes 20 a minute) and -1
// (system busy) are retried, the others (93000 invalid key, ...) fail the
// delivery on this robot, so dispatch falls back to the person's next
// contact. Content is cut to 4096 bytes, the robot's limit.
//
// The robot's URL is the contact's address in the registry. Its key may be
// in that URL, or, better, in a file or the environment: list the robot
// under robots with the address as written in the registry and key_file
// (or key: env:NAME), and the key is added to the request.
package wecom

import (
	"context"
	"fmt"
	"net/http"

	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/notify/grouprobot"
)

// MaxContent is the robot's limit on markdown content, in bytes.
const MaxContent = 4096

// errcodeTooFast is the robot API's "too many messages" (20 a minute).
const errcodeTooFast = 45009

// Notifier posts markdown messages to WeCom group robots.
type Notifier struct {
	client *http.Client
	keys   map[string]notify.Secret // by address
	redact *notify.Redactor
}

// New returns a WeCom notifier. client may be nil.
func New(c *Config, client *http.Client) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{client: client, keys: map[string]notify.Secret{}, redact: &notify.Redactor{}}
	if n.client == nil {
		n.client = &http.Client{Timeout: c.timeout()}
	}
	for i, r := range c.Robots {
		k, err := notify.LoadSecret(fmt.Sprintf("wecom.robots[%d].key", i), r.Key, r.KeyFile)
		if err != nil {
			return nil, err
		}
		n.keys[r.Address] = k
		n.redact.Add(k.Reveal())
	}
	return n, nil
}

// Payload is the robot's markdown message.
type Payload struct {
	MsgType  string   `json:"msgtype"`
	Markdown Markdown `json:"markdown"`
}

// Markdown is the markdown part of a Payload.
type Markdown struct {
	Content string `json:"content"`
}

// Notify posts m's markdown to the robot at m.Recipient.Address.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := grouprobot.Address("wecom", m.Recipient.Address)
	if err != nil {
		return err
	}
	what := "wecom robot " + notify.RedactURL(u.String())
	if k, ok := n.keys[m.Recipient.Address]; ok {
		q := u.Query()
		q.Set("key", k.Reveal())
		u.RawQuery = q.Encode()
	}
	if u.Query().Get("key") == "" {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("%s: no key: put it in the address as key=... or list the robot under wecom.robots with key_file", what))
	}
	u.Fragment, u.RawFragment = "", ""
	r := n.redact.With(u.Query().Get("key"))
	msg := Payload{MsgType: "markdown", Markdown: Markdown{Content: notify.Truncate(m.Markdown, MaxContent)}}
	return grouprobot.Post(ctx, n.client, u, msg, errcodeTooFast, what, r)
}
