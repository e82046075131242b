package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"
)

// Reason is why a delivery failed: a fixed set, the reason label of the
// failure counter.
type Reason string

// Reasons.
const (
	ReasonTimeout     Reason = "timeout"        // no answer within the timeout
	ReasonNetwork     Reason = "network"        // could not connect, connection reset
	ReasonRateLimited Reason = "rate_limited"   // HTTP 429, or the provider's "too fast" code
	ReasonServer      Reason = "server_error"   // HTTP 5xx
	ReasonRejected    Reason = "rejected"       // HTTP 4xx other than 429: will not succeed as sent
	ReasonProvider    Reason = "provider_error" // HTTP 200 with an error code in the body
	ReasonBadMessage  Reason = "bad_message"    // the message cannot be sent on this channel
	ReasonOther       Reason = "other"
)

// Reasons lists every reason, for pre-creating label values.
func Reasons() []Reason {
	return []Reason{ReasonTimeout, ReasonNetwork, ReasonRateLimited, ReasonServer, ReasonRejected, ReasonProvider, ReasonBadMessage, ReasonOther}
}

// Error is a failed delivery. Permanent errors are not retried on the same
// contact (dispatch falls back to the person's next contact); the others
// are, after RetryAfter when the receiver asked for a delay.
type Error struct {
	Reason     Reason
	Permanent  bool
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	s := e.Err.Error()
	if e.Permanent {
		s += " (permanent)"
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Permanent returns a permanent error.
func Permanent(reason Reason, err error) error {
	return &Error{Reason: reason, Permanent: true, Err: err}
}

// Retryable returns an error worth retrying, after at least after (0: the
// caller's backoff decides).
func Retryable(reason Reason, after time.Duration, err error) error {
	return &Error{Reason: reason, RetryAfter: after, Err: err}
}

// IsPermanent reports whether err says that retrying cannot help.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// RetryAfter returns the delay the receiver asked for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// ReasonOf returns err's reason; errors that are not an *Error are
// classified as timeouts, network errors or other.
func ReasonOf(err error) Reason {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e.Reason
	case errors.Is(err, context.DeadlineExceeded):
		return ReasonTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) {
		if ne.Timeout() {
			return ReasonTimeout
		}
		return ReasonNetwork
	}
	return ReasonOther
}

// MaxResponse bounds how much of a response body is read.
const MaxResponse = 64 << 10

// Do sends req with c and reads the response body (at most MaxResponse).
// A transport failure, 429 and 5xx become retryable errors (with the
// Retry-After the server sent), other statuses outside 2xx permanent ones.
// Error messages name the request by what, never by its URL: the URL may
// hold a key. The response body appears in errors only after r has
// redacted it, and cut short.
func Do(c *http.Client, req *http.Request, what string, r *Redactor) (status int, body []byte, err error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, transportError(req.Context(), what, err, r)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	if err != nil {
		return resp.StatusCode, body, Retryable(ReasonNetwork, 0, fmt.Errorf("%s: reading the response: %s", what, r.String(errText(err))))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, body, nil
	}
	msg := fmt.Errorf("%s: HTTP %d: %s", what, resp.StatusCode, Snippet(body, r))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return resp.StatusCode, body, Retryable(ReasonRateLimited, parseRetryAfter(resp.Header.Get("Retry-After")), msg)
	case resp.StatusCode >= 500:
		return resp.StatusCode, body, Retryable(ReasonServer, parseRetryAfter(resp.Header.Get("Retry-After")), msg)
	case resp.StatusCode == http.StatusRequestTimeout:
		return resp.StatusCode, body, Retryable(ReasonTimeout, 0, msg)
	}
	return resp.StatusCode, body, Permanent(ReasonRejected, msg)
}

// transportError turns a client error into a retryable Error without the
// URL that *url.Error carries.
func transportError(ctx context.Context, what string, err error, r *Redactor) error {
	reason := ReasonNetwork
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		reason = ReasonTimeout
	case ctx.Err() != nil:
		reason = ReasonOther
	}
	return Retryable(reason, 0, fmt.Errorf("%s: %s", what, r.String(errText(err))))
}

// errText is an error's text without the URL that *url.Error adds.
func errText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	return err.Error()
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// Snippet is the beginning of a response body for an error message, with
// secrets redacted.
func Snippet(body []byte, r *Redactor) string {
	const max = 200
	body = bytes.TrimSpace(body)
	if len(body) > max {
		body = body[:max]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
		return r.String(string(body)) + "..."
	}
	if len(body) == 0 {
		return "(empty body)"
	}
	return r.String(string(body))
}
