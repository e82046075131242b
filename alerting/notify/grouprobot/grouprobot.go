// Package grouprobot speaks the protocol that WeCom's and DingTalk's group
// robots share: a JSON message POSTed to the robot's webhook URL, answered
// with {"errcode":0,"errmsg":"ok"} or another errcode. The notifiers
// (alerting/notify/wecom, alerting/notify/dingtalk) build the URL with the
// robot's credentials and the message; this package checks addresses,
// sends, and sorts the answer into delivered, retry later and failed.
package grouprobot

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/chargewatch/chargewatch/alerting/notify"
)

// Busy is the errcode of both robot APIs for "system busy": retried.
const Busy = -1

// TooFastRetryFor is how long a robot that answered "too many messages"
// (20 a minute) is left alone.
const TooFastRetryFor = time.Minute

// Response is a robot's answer.
type Response struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// validAddress reports whether addr is an http(s) URL with a host.
func validAddress(addr string) (*url.URL, bool) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, false
	}
	return u, true
}

// Address parses a contact's address (a robot's webhook URL as the registry
// has it) for the channel ("wecom", "dingtalk"); an address that is not an
// http(s) URL fails the delivery permanently.
func Address(channel, addr string) (*url.URL, error) {
	u, ok := validAddress(addr)
	if !ok {
		return nil, notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("%s: the contact's address is not an http(s) URL", channel))
	}
	return u, nil
}

// Addresses checks the addresses of a config's robots one by one and
// remembers those it has seen.
type Addresses map[string]bool

// Check checks robot i's address, listed under key ("wecom.robots"): it
// must be an http(s) URL, listed once.
func (seen Addresses) Check(key string, i int, addr string) error {
	defer func() { seen[addr] = true }()
	if _, ok := validAddress(addr); !ok {
		return fmt.Errorf("%s[%d].address must be an http(s) URL as written in the registry", key, i)
	}
	if seen[addr] {
		return fmt.Errorf("%s[%d].address is listed twice", key, i)
	}
	return nil
}

// Post sends msg as JSON to the robot at u (its credentials in the query)
// and reads the answer: errcode 0 is delivered; tooFast (the API's "too
// many messages") is retried after TooFastRetryFor, Busy at once; any
// other errcode fails the delivery on this robot. what names the robot in
// errors (its URL redacted); r redacts its credentials from whatever the
// robot answers.
func Post(ctx context.Context, client *http.Client, u *url.URL, msg any, tooFast int, what string, r *notify.Redactor) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("%s: %w", what, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return notify.Permanent(notify.ReasonBadMessage, fmt.Errorf("%s: cannot build the request", what))
	}
	req.Header.Set("Content-Type", "application/json")
	_, body, err := notify.Do(client, req, what, r)
	if err != nil {
		return err
	}
	var resp Response
	if err := json.Unmarshal(body, &resp); err != nil {
		return notify.Retryable(notify.ReasonProvider, 0, fmt.Errorf("%s: answer is not JSON: %s", what, notify.Snippet(body, r)))
	}
	if resp.ErrCode == 0 {
		return nil
	}
	err = fmt.Errorf("%s: errcode %d: %s", what, resp.ErrCode, r.String(resp.ErrMsg))
	switch resp.ErrCode {
	case tooFast:
		return notify.Retryable(notify.ReasonRateLimited, TooFastRetryFor, err)
	case Busy:
		return notify.Retryable(notify.ReasonProvider, 0, err)
	}
	return notify.Permanent(notify.ReasonProvider, err)
}
