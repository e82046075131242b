package devices

// Reason is why a message or a reading was rejected. The set is fixed so it
// can be the label of a counter; every value is listed in Reasons.
type Reason string

// Rejection reasons.
const (
	ReasonMalformedJSON   Reason = "malformed_json"    // not valid JSON, or not the expected shape
	ReasonWrongType       Reason = "wrong_type"        // a field has the wrong JSON type
	ReasonNonFinite       Reason = "non_finite"        // a number overflows to infinity
	ReasonOutOfRange      Reason = "out_of_range"      // a value outside the field's physical range
	ReasonUnknownField    Reason = "unknown_field"     // a field not in the device kind's vocabulary
	ReasonMissingField    Reason = "missing_field"     // ts or seq (or an event's type) is missing
	ReasonTimestamp       Reason = "ts_out_of_window"  // ts too far in the past or the future
	ReasonUnknownGateway  Reason = "unknown_gateway"   // the topic's gateway is not registered
	ReasonUnknownDevice   Reason = "unknown_device"    // the topic's device is not registered
	ReasonWrongGateway    Reason = "wrong_gateway"     // the device is registered under another gateway
	ReasonOversize        Reason = "oversize"          // payload larger than the limit
	ReasonTooManyReadings Reason = "too_many_readings" // more readings in one message than the limit
	ReasonBadTopic        Reason = "bad_topic"         // the topic does not follow cw/v1/{gw}/{dev}/{channel}
	ReasonBadEvent        Reason = "bad_event"         // an event with an unknown type
	ReasonNoFields        Reason = "no_fields"         // a reading with no measured field at all
)

// Reasons lists every rejection reason, for pre-creating metric labels.
var Reasons = []Reason{
	ReasonMalformedJSON, ReasonWrongType, ReasonNonFinite, ReasonOutOfRange, ReasonUnknownField,
	ReasonMissingField, ReasonTimestamp, ReasonUnknownGateway, ReasonUnknownDevice,
	ReasonWrongGateway, ReasonOversize, ReasonTooManyReadings, ReasonBadTopic, ReasonBadEvent,
	ReasonNoFields,
}

// Error is a rejection with its reason and a message that names the thing
// that is wrong and how to fix it.
type Error struct {
	Reason Reason
	Msg    string
	syntax bool // the scanner cannot go on: the whole message is rejected
}

func (e *Error) Error() string { return e.Msg }

func reject(r Reason, msg string) *Error { return &Error{Reason: r, Msg: msg} }
