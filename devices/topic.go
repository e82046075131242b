package devices

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Channel is the last level of a wire contract topic.
type Channel uint8

// Channels of wire contract v1: three up, one down.
const (
	ChannelTelemetry Channel = iota + 1 // readings, QoS 1
	ChannelEvent                        // discrete events, QoS 1
	ChannelStatus                       // retained online/offline and health
	ChannelCmd                          // commands to the device (down)
)

var channelNames = map[Channel]string{
	ChannelTelemetry: "telemetry", ChannelEvent: "event", ChannelStatus: "status", ChannelCmd: "cmd",
}

func (c Channel) String() string {
	if s, ok := channelNames[c]; ok {
		return s
	}
	return fmt.Sprintf("channel(%d)", uint8(c))
}

// TopicPrefix is the first two levels of every contract topic.
const TopicPrefix = "cw/v1/"

// Subscription filters for the server side.
const (
	FilterTelemetry = "cw/v1/+/+/telemetry"
	FilterEvent     = "cw/v1/+/+/event"
	FilterStatus    = "cw/v1/+/+/status"
)

// Topic is a parsed contract topic cw/v1/{gateway}/{device}/{channel}.
type Topic struct {
	Gateway string
	Device  string
	Channel Channel
}

// String builds the topic name.
func (t Topic) String() string {
	return TopicPrefix + t.Gateway + "/" + t.Device + "/" + t.Channel.String()
}

// TopicFor builds the topic for a device's channel. A device that connects by
// itself passes its own id as gateway.
func TopicFor(gateway, device string, ch Channel) string {
	return Topic{Gateway: gateway, Device: device, Channel: ch}.String()
}

// ParseTopic parses a contract topic. It does not allocate: the ids are
// substrings of name.
func ParseTopic(name string) (Topic, error) {
	var t Topic
	if !strings.HasPrefix(name, TopicPrefix) {
		return t, reject(ReasonBadTopic, fmt.Sprintf("topic %s does not start with %q: publish to cw/v1/{gateway}/{device}/{channel}", quote(name), TopicPrefix))
	}
	rest := name[len(TopicPrefix):]
	if strings.Count(rest, "/") != 2 {
		return t, badTopic(name)
	}
	i := strings.IndexByte(rest, '/')
	t.Gateway, rest = rest[:i], rest[i+1:]
	i = strings.IndexByte(rest, '/')
	t.Device, rest = rest[:i], rest[i+1:]
	switch rest {
	case "telemetry":
		t.Channel = ChannelTelemetry
	case "event":
		t.Channel = ChannelEvent
	case "status":
		t.Channel = ChannelStatus
	case "cmd":
		t.Channel = ChannelCmd
	default:
		return t, reject(ReasonBadTopic, fmt.Sprintf("topic %s: unknown channel %s: use telemetry, event, status or cmd", quote(name), quote(rest)))
	}
	if !ValidID(t.Gateway) {
		return t, reject(ReasonBadTopic, fmt.Sprintf("topic %s: gateway id %s is invalid: %s", quote(name), quote(t.Gateway), idProblem(t.Gateway)))
	}
	if !ValidID(t.Device) {
		return t, reject(ReasonBadTopic, fmt.Sprintf("topic %s: device id %s is invalid: %s", quote(name), quote(t.Device), idProblem(t.Device)))
	}
	return t, nil
}

func badTopic(name string) error {
	return reject(ReasonBadTopic, fmt.Sprintf("topic %s has %d levels, not 5: publish to cw/v1/{gateway}/{device}/{channel}", quote(name), strings.Count(name, "/")+1))
}

// ValidID reports whether s is a valid gateway, device or place id:
// [a-z0-9][a-z0-9._-]{0,63}.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// idRule is the ID rule in words, for messages.
const idRule = "ids are 1 to 64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit"

// idProblem says what is wrong with an invalid id and how to fix it.
func idProblem(s string) string {
	switch {
	case s == "":
		return "it is empty: " + idRule
	case len(s) > 64:
		return fmt.Sprintf("it is %d bytes long, more than 64: shorten it", len(s))
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			return "it has upper-case letters: use lower case (" + idRule + ")"
		case i == 0 && (r == '.' || r == '_' || r == '-'):
			return fmt.Sprintf("it starts with %q: start with a letter or digit", r)
		case !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'):
			return fmt.Sprintf("it contains %q: %s", r, idRule)
		}
	}
	return idRule
}

// quote quotes untrusted text for an error message, Go-style, shortened
// to about 80 bytes so that hostile input cannot bloat messages.
func quote(s string) string {
	const max = 80
	out := make([]byte, 1, max+8)
	out[0] = '"'
	for i := 0; i < len(s); {
		_, n := utf8.DecodeRuneInString(s[i:])
		q := strconv.Quote(s[i : i+n])
		q = q[1 : len(q)-1]
		if len(out)+len(q) > max {
			return string(append(out, `"...`...))
		}
		out = append(out, q...)
		i += n
	}
	return string(append(out, '"'))
}
