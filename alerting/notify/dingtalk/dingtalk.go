// Package dingtalk delivers chargewatch notifications to DingTalk (钉钉)
// group robots as markdown messages, signed when the robot's security
// setting is "加签" (signature).
//
// # Request
//
//	POST https://oapi.dingtalk.com/robot/send?access_token=TOKEN&timestamp=MS&sign=SIGN
//	Content-Type: application/json
//
//	{"msgtype":"markdown","markdown":{"title":"【紧急】烟感报警｜...","text":"### ..."}}
//
// timestamp is the current time in Unix milliseconds and sign is
// urlencode(base64(HMAC-SHA256(key=secret, data=timestamp + "\n" + secret))),
// as DingTalk documents it; the robot refuses a timestamp more than an hour
// off. Without a secret, timestamp and sign are left out (robots secured by
// keywords or IP addresses). The robot answers {"errcode":0,"errmsg":"ok"};
// 130101 (too fast: 20 messages a minute) and -1 (busy) are retried, other
// codes (310000: signature, keyword or IP refused; 300001: bad token) fail
// the delivery on this robot.
//
// The robot's URL is the contact's address in the registry; its
// access_token and secret may be in that URL or, better, listed under
// robots with access_token_file and secret_file.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify"
	"github.com/chargewatch/chargewatch/alerting/notify/grouprobot"
)

// MaxText bounds the markdown text sent, in bytes.
const MaxText = 16000

// errcodeTooFast is the robot API's "too many messages" (20 a minute).
const errcodeTooFast = 130101

type robot struct {
	token  notify.Secret
	secret notify.Secret
}

// Notifier posts markdown messages to DingTalk group robots.
type Notifier struct {
	client *http.Client
	robots map[string]robot // by address
	redact *notify.Redactor
	now    func() time.Time
}

// New returns a DingTalk notifier. client may be nil.
func New(c *Config, client *http.Client) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{client: client, robots: map[string]robot{}, redact: &notify.Redactor{}, now: time.Now}
	if n.client == nil {
		n.client = &http.Client{Timeout: c.timeout()}
	}
	for i, r := range c.Robots {
		var rb robot
		var err error
		if rb.token, err = notify.LoadSecret(fmt.Sprintf("dingtalk.robots[%d].access_token", i), r.AccessToken, r.AccessTokenFile); err != nil {
			return nil, err
		}
		if rb.secret, err = notify.LoadSecret(fmt.Sprintf("dingtalk.robots[%d].secret", i), r.Secret, r.SecretFile); err != nil {
			return nil, err
		}
		n.robots[r.Address] = rb
		n.redact.Add(rb.token.Reveal(), rb.secret.Reveal())
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
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Sign returns the sign parameter for timestamp (Unix ms) before URL
// encoding: base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
func Sign(secret string, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Notify posts m's markdown to the robot at m.Recipient.Address.
func (n *Notifier) Notify(ctx context.Context, m *notify.Message) error {
	u, err := grouprobot.Address("dingtalk", m.Recipient.Address)
	if err != nil {
		return err
	}
	what := "dingtalk robot " + notify.RedactURL(u.String())
	u.Fragment, u.RawFragment = "", ""
	q := u.Query()
	rb := n.robots[m.Recipient.Address]
	if !rb.token.IsZero() {
		q.Set("access_token", rb.token.Reveal())
	}
	if q.Get("access_token") == "" {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("%s: no access_token: put it in the address or list the robot under dingtalk.robots with access_token_file", what))
	}
	r := n.redact.With(q.Get("access_token"))
	if !rb.secret.IsZero() {
		ts := n.now().UnixMilli()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", Sign(rb.secret.Reveal(), ts))
	}
	u.RawQuery = q.Encode()
	msg := Payload{MsgType: "markdown", Markdown: Markdown{Title: m.Title, Text: notify.Truncate(breaks(m.Markdown), MaxText)}}
	return grouprobot.Post(ctx, n.client, u, msg, errcodeTooFast, what, r)
}

// breaks makes each line its own paragraph: DingTalk's markdown joins
// lines separated by a single newline.
func breaks(md string) string {
	return strings.ReplaceAll(md, "\n", "\n\n")
}
