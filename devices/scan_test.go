package devices

import (
	"encoding/json"
	"testing"
)

// TestScannerStrings decodes string literals and compares them with
// encoding/json.
func TestScannerStrings(t *testing.T) {
	valid := []string{
		`""`, `"plain"`, `"温度 🔥"`, `"\"\\\/\b\f\n\r\t"`, `"a\u0041\u00e9\u6e29"`, `"\uD83D\uDD25"`,
		`"\ud83d\udd25x"`, `"\uFFFF\uFEFF"`, `"\u0000"`, `"x\u001f\u007f"`, `"mixed \n 温 \u0042"`,
	}
	var s scanner
	for _, lit := range valid {
		s.reset([]byte(lit))
		got, err := s.str()
		var want string
		if jerr := json.Unmarshal([]byte(lit), &want); jerr != nil {
			t.Fatalf("encoding/json rejects %s: %v", lit, jerr)
		}
		if err != nil || string(got) != want || !s.atEnd() {
			t.Errorf("str(%s) = %q, %v; want %q", lit, got, err, want)
		}
	}
	invalid := map[string]error{
		`"abc`:               errUnterminated,
		`"ab\`:               errUnterminated,
		`"\x"`:               errBadEscape,
		`"\u00"`:             errBadUnicode,
		`"\u00zz"`:           errBadUnicode,
		`"\ud83d\u12"`:       errBadUnicode,
		`"\ud83d"`:           errLoneSurrogate,
		`"\ud83d\n"`:         errLoneSurrogate,
		`"\ude00"`:           errLoneSurrogate,
		`"\ud83d\ud83d"`:     errLoneSurrogate,
		"\"a\x01\"":          errControlChar,
		"\"\\n\x01\"":        errControlChar,
		"\"\xff\"":           errBadUTF8,
		"\"\\n\xff\"":        errBadUTF8,
		`'a'`:                errNotString,
		``:                   errUnexpectedEnd,
		"\"\\u00e9\\n\xc3\"": errBadUTF8,
	}
	for lit, want := range invalid {
		s.reset([]byte(lit))
		if _, err := s.str(); err != want {
			t.Errorf("str(%s) = %v, want %v", lit, err, want)
		}
	}
}

// TestScannerSkip checks the skipping of values the contract does not use.
func TestScannerSkip(t *testing.T) {
	ok := []string{`1`, `-0.5e3`, `"s"`, `true`, `false`, `null`, `[]`, `{}`, `[1,"a",[{}],{"k":[null]}]`, ` { "a" : [ 1 , 2 ] } `}
	var s scanner
	for _, v := range ok {
		s.reset([]byte(v))
		if err := s.skip(0); err != nil || !s.atEnd() {
			t.Errorf("skip(%s): %v", v, err)
		}
	}
	bad := map[string]error{
		``:           errUnexpectedEnd,
		`[`:          errUnexpectedEnd,
		`[1`:         errUnexpectedEnd,
		`[1 2]`:      errExpectCommaBracket,
		`{"a" 1}`:    errMissingColon,
		`{"a":1 "b"`: errExpectCommaBrace,
		`{"a":1,}`:   errTrailingComma,
		`[1,]`:       errTrailingComma,
		`{1:2}`:      errNotString,
		`+1`:         errUnexpectedToken,
		`nul`:        errBadLiteral,
		`01`:         errLeadingZero,
	}
	for v, want := range bad {
		s.reset([]byte(v))
		if err := s.skip(0); err != want {
			t.Errorf("skip(%s) = %v, want %v", v, err, want)
		}
	}
	for v, want := range map[string]string{`"a"`: "string", `-1`: "number", `true`: "boolean", `null`: "null", `[`: "array", `{`: "object", `x`: "invalid JSON", ``: "end of input"} {
		s.reset([]byte(v))
		if got := s.valueKind(); got != want {
			t.Errorf("valueKind(%s) = %s, want %s", v, got, want)
		}
	}
}
