package devices

import (
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// scanner is a small strict JSON scanner (RFC 8259) over a byte slice. It
// knows just enough JSON for the wire contract: flat objects of numbers,
// booleans and strings, inside at most one array; anything else is skipped
// with bounded nesting. It never allocates for valid input, which keeps the
// ingest hot path cheap.
//
// Every scanner error is one of the sentinel errors below: they say what is
// wrong and how to fix it, and returning them does not allocate.
type scanner struct {
	b   []byte
	pos int
	buf []byte // scratch for strings with escapes
}

// Scanner errors. Each names the problem and hints at the fix.
var (
	errUnexpectedEnd   = errors.New("unexpected end of input: the JSON text is cut short; send the whole message")
	errUnexpectedToken = errors.New("unexpected character: write values as JSON; NaN, Infinity, single quotes, comments and bare words are not JSON")
	errLeadingZero     = errors.New("number with a leading zero: write 7, not 07")
	errBadNumber       = errors.New("invalid number: write JSON numbers such as -12, 0.5 or 2.5e3 (no leading +, no bare dot, no hex)")
	errBadLiteral      = errors.New("invalid literal: write true, false or null in lower case")
	errNotString       = errors.New("expected a key in double quotes: write \"key\":value, without single quotes, comments or stray commas")
	errControlChar     = errors.New("unescaped control character in a string: escape it, for example \\n or \\u0000")
	errBadUTF8         = errors.New("string is not valid UTF-8: send text encoded as UTF-8")
	errBadEscape       = errors.New("invalid escape in a string: use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX")
	errBadUnicode      = errors.New("invalid \\u escape: it needs four hex digits")
	errLoneSurrogate   = errors.New("lone UTF-16 surrogate in a \\u escape: write characters above U+FFFF as a surrogate pair (\\ud83d\\ude00) or as UTF-8")
	errUnterminated    = errors.New("unterminated string: close it with a double quote")
	errTooDeep         = errors.New("nesting too deep: contract messages are flat objects; remove the nested value")
	errTrailingComma   = errors.New("trailing comma: remove the comma before the closing bracket")
	errMissingColon    = errors.New("expected : after the key: write \"key\":value")
)

// maxSkipDepth bounds the nesting of arrays and objects in values that are
// skipped (unknown or wrong fields), so hostile input cannot recurse deeply.
const maxSkipDepth = 16

func (s *scanner) reset(b []byte) { s.b, s.pos = b, 0 }

func (s *scanner) ws() {
	for s.pos < len(s.b) {
		switch s.b[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end. A NUL byte in the
// input also reads as 0; use atEnd to tell them apart.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos < len(s.b) {
		return s.b[s.pos]
	}
	return 0
}

// atEnd skips white space and reports whether the input is used up.
func (s *scanner) atEnd() bool {
	s.ws()
	return s.pos >= len(s.b)
}

func (s *scanner) expect(c byte) bool {
	if s.peek() == c && s.pos < len(s.b) {
		s.pos++
		return true
	}
	return false
}

// delim reports whether the byte at s.pos may follow a number or a literal:
// white space, a separator, a closing bracket or the end of the input.
func (s *scanner) delim() bool {
	if s.pos >= len(s.b) {
		return true
	}
	switch s.b[s.pos] {
	case ' ', '\t', '\n', '\r', ',', ']', '}':
		return true
	}
	return false
}

// str scans a JSON string and returns its contents. The result aliases the
// input when it has no escapes, else the scratch buffer: copy it to keep it,
// and do not hold it across another call to str.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		if s.atEnd() {
			return nil, errUnexpectedEnd
		}
		return nil, errNotString
	}
	s.pos++
	start := s.pos
	ascii := true
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			out := s.b[start:s.pos]
			s.pos++
			if !ascii && !utf8.Valid(out) {
				return nil, errBadUTF8
			}
			return out, nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return nil, errControlChar
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.pos++
	}
	return nil, errUnterminated
}

func (s *scanner) strSlow(start int) ([]byte, error) {
	s.buf = append(s.buf[:0], s.b[start:s.pos]...)
	for s.pos < len(s.b) {
		c := s.b[s.pos]
		switch {
		case c == '"':
			s.pos++
			if !utf8.Valid(s.buf) {
				return nil, errBadUTF8
			}
			return s.buf, nil
		case c < 0x20:
			return nil, errControlChar
		case c != '\\':
			s.buf = append(s.buf, c)
			s.pos++
			continue
		}
		s.pos++
		if s.pos >= len(s.b) {
			break
		}
		e := s.b[s.pos]
		s.pos++
		switch e {
		case '"', '\\', '/':
			s.buf = append(s.buf, e)
		case 'b':
			s.buf = append(s.buf, '\b')
		case 'f':
			s.buf = append(s.buf, '\f')
		case 'n':
			s.buf = append(s.buf, '\n')
		case 'r':
			s.buf = append(s.buf, '\r')
		case 't':
			s.buf = append(s.buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, errBadUnicode
			}
			switch {
			case r >= 0xdc00 && r < 0xe000:
				return nil, errLoneSurrogate // a low surrogate without a high one
			case r >= 0xd800 && r < 0xdc00:
				// A high surrogate must be followed by a low one: \ud83d\ude00.
				if s.pos+1 >= len(s.b) || s.b[s.pos] != '\\' || s.b[s.pos+1] != 'u' {
					return nil, errLoneSurrogate
				}
				s.pos += 2
				r2, ok := s.hex4()
				if !ok {
					return nil, errBadUnicode
				}
				if r2 < 0xdc00 || r2 >= 0xe000 {
					return nil, errLoneSurrogate
				}
				r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
			}
			s.buf = utf8.AppendRune(s.buf, r)
		default:
			return nil, errBadEscape
		}
	}
	return nil, errUnterminated
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// pow10 holds the powers of ten that a float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// number scans a JSON number literal (strict grammar) and parses it.
// Overflow gives ±Inf, which the caller rejects as non-finite; underflow
// gives 0.
//
// Literals with at most 19 digits whose mantissa fits 53 bits and whose
// decimal exponent is within ±22 (nearly every reading) are converted
// directly: an exact integer times or divided by an exact power of ten is
// correctly rounded by IEEE 754. Everything else goes to strconv.ParseFloat.
func (s *scanner) number() (float64, error) {
	s.ws()
	start := s.pos
	b := s.b
	i := s.pos
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	nd := 0       // digits in mant
	exp10 := 0    // decimal exponent to apply to mant
	exact := true // mant holds every digit
	switch {
	case i < len(b) && b[i] == '0':
		i++
		if i < len(b) && b[i] >= '0' && b[i] <= '9' {
			return 0, errLeadingZero
		}
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if nd < 19 {
				mant = mant*10 + uint64(b[i]-'0')
				nd++
			} else {
				exact = false
			}
		}
	default:
		if i >= len(b) {
			return 0, errUnexpectedEnd
		}
		return 0, errBadNumber
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if nd < 19 {
				mant = mant*10 + uint64(b[i]-'0')
				if mant != 0 {
					nd++ // leading zeros of the fraction cost no digit
				}
				exp10--
			} else {
				exact = false
			}
		}
		if i == d {
			return 0, errBadNumber
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		d := i
		e := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if e < 10000 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if i == d {
			return 0, errBadNumber
		}
		if eneg {
			e = -e
		}
		exp10 += e
	}
	s.pos = i
	if !s.delim() {
		return 0, errBadNumber
	}
	if exact && mant <= 1<<53 && exp10 >= -22 && exp10 <= 22 {
		f := float64(mant)
		if exp10 < 0 {
			f /= pow10[-exp10]
		} else {
			f *= pow10[exp10]
		}
		if neg {
			f = -f
		}
		return f, nil
	}
	lit := b[start:i]
	// ParseFloat does not keep its argument, so a zero-copy view is safe.
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(lit), len(lit)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, nil // ±Inf or 0; the caller checks finiteness
		}
		return 0, errBadNumber
	}
	return v, nil
}

// literal scans true, false or null.
func (s *scanner) literal() (kind byte, err error) {
	s.ws()
	rest := s.b[s.pos:]
	n := 0
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		kind, n = 't', 4
	case len(rest) >= 5 && string(rest[:5]) == "false":
		kind, n = 'f', 5
	case len(rest) >= 4 && string(rest[:4]) == "null":
		kind, n = 'n', 4
	default:
		return 0, errBadLiteral
	}
	s.pos += n
	if !s.delim() {
		return 0, errBadLiteral
	}
	return kind, nil
}

// skip scans over any JSON value, bounded in depth.
func (s *scanner) skip(depth int) error {
	switch c := s.peek(); {
	case s.pos >= len(s.b):
		return errUnexpectedEnd
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := s.number()
		return err
	case c == 't' || c == 'f' || c == 'n':
		_, err := s.literal()
		return err
	case c == '[':
		if depth >= maxSkipDepth {
			return errTooDeep
		}
		s.pos++
		if s.expect(']') {
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.expect(',') {
				if s.peek() == ']' {
					return errTrailingComma
				}
				continue
			}
			if s.expect(']') {
				return nil
			}
			return s.sepErr(']')
		}
	case c == '{':
		if depth >= maxSkipDepth {
			return errTooDeep
		}
		s.pos++
		if s.expect('}') {
			return nil
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if !s.expect(':') {
				return s.sepErr(':')
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			if s.expect(',') {
				if s.peek() == '}' {
					return errTrailingComma
				}
				continue
			}
			if s.expect('}') {
				return nil
			}
			return s.sepErr('}')
		}
	}
	return errUnexpectedToken
}

var (
	errExpectCommaBrace   = errors.New("expected , or } after a value: separate members with commas and close the object")
	errExpectCommaBracket = errors.New("expected , or ] after a value: separate elements with commas and close the array")
)

// sepErr explains a missing separator or closing bracket.
func (s *scanner) sepErr(want byte) error {
	if s.atEnd() {
		return errUnexpectedEnd
	}
	switch want {
	case ':':
		return errMissingColon
	case ']':
		return errExpectCommaBracket
	}
	return errExpectCommaBrace
}

// afterMember consumes the separator after an object member: it returns
// more=true after a comma (refusing a trailing comma) and more=false after
// the closing brace.
func (s *scanner) afterMember() (more bool, err error) {
	if s.expect(',') {
		if s.peek() == '}' {
			return false, errTrailingComma
		}
		return true, nil
	}
	if s.expect('}') {
		return false, nil
	}
	return false, s.sepErr('}')
}

// afterElement is afterMember for arrays.
func (s *scanner) afterElement() (more bool, err error) {
	if s.expect(',') {
		if s.peek() == ']' {
			return false, errTrailingComma
		}
		return true, nil
	}
	if s.expect(']') {
		return false, nil
	}
	return false, s.sepErr(']')
}

// valueKind classifies the next value without consuming it.
func (s *scanner) valueKind() string {
	c := s.peek()
	if s.pos >= len(s.b) {
		return "end of input"
	}
	switch {
	case c == '"':
		return "string"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '[':
		return "array"
	case c == '{':
		return "object"
	}
	return "invalid JSON"
}
