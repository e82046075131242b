package notify

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Secret is an outgoing credential (a robot key, a signing secret, a
// gateway password). It comes from a file readable only by the service or
// from the environment, never from the config file itself, and it prints
// as "<secret>" in every format, JSON and YAML, so it cannot reach a log
// or an error by accident. Reveal returns the value for the one place
// that needs it. The value sits behind a pointer, so that even printing a
// struct that holds a Secret in an unexported field (where fmt cannot call
// Format) shows an address, not the value.
type Secret struct{ p *string }

const redactedSecret = "<secret>"

// Reveal returns the secret's value.
func (s Secret) Reveal() string {
	if s.p == nil {
		return ""
	}
	return *s.p
}

// IsZero reports whether no secret was configured.
func (s Secret) IsZero() bool { return s.p == nil || *s.p == "" }

// String implements fmt.Stringer without the value.
func (s Secret) String() string { return redactedSecret }

// GoString implements fmt.GoStringer without the value.
func (s Secret) GoString() string { return redactedSecret }

// Format prints "<secret>" for every verb.
func (s Secret) Format(f fmt.State, _ rune) { io.WriteString(f, redactedSecret) }

// MarshalText implements encoding.TextMarshaler without the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redactedSecret), nil }

// MarshalYAML implements yaml.Marshaler without the value.
func (s Secret) MarshalYAML() (any, error) { return redactedSecret, nil }

// NewSecret wraps a value, for tests and for secrets made at run time.
func NewSecret(v string) Secret { return Secret{p: &v} }

// maxSecretFile bounds a secret file.
const maxSecretFile = 64 << 10

// LoadSecret loads the secret of config key key from ref, which must be
// "env:NAME", or from file, a path. At most one of them may be given;
// with neither the Secret is zero. A file must be a regular file that
// only its owner can read or write (mode 0600 or 0400): a secret that
// other users can read is refused. Surrounding white space (the newline
// an editor adds) is trimmed. Errors name the key, the file or the
// variable, never the value.
func LoadSecret(key, ref, file string) (Secret, error) {
	switch {
	case ref != "" && file != "":
		return Secret{}, fmt.Errorf("%s: give either %s (env:NAME) or %s_file, not both", key, key, key)
	case ref != "":
		name, ok := strings.CutPrefix(ref, "env:")
		if !ok || name == "" {
			return Secret{}, fmt.Errorf("%s: secrets are not written in the config file: write env:NAME to read an environment variable, or put the secret in a file (mode 0600) and name it in %s_file", key, key)
		}
		v, ok := os.LookupEnv(name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			return Secret{}, fmt.Errorf("%s: environment variable %s is not set or empty", key, name)
		}
		return NewSecret(v), nil
	case file != "":
		return loadSecretFile(key, file)
	}
	return Secret{}, nil
}

// ParseSecretRef loads a secret written as "env:NAME" or "file:/path", the
// form used in maps of secrets (the SMS gateway's).
func ParseSecretRef(key, ref string) (Secret, error) {
	if p, ok := strings.CutPrefix(ref, "file:"); ok {
		if p == "" {
			return Secret{}, fmt.Errorf("%s: file: needs a path", key)
		}
		return loadSecretFile(key, p)
	}
	if !strings.HasPrefix(ref, "env:") {
		return Secret{}, fmt.Errorf("%s: secrets are not written in the config file: write env:NAME or file:/path/to/secret (mode 0600)", key)
	}
	return LoadSecret(key, ref, "")
}

func loadSecretFile(key, file string) (Secret, error) {
	f, err := os.Open(file)
	if err != nil {
		return Secret{}, fmt.Errorf("%s_file: %w", key, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Secret{}, fmt.Errorf("%s_file: %w", key, err)
	}
	switch {
	case !st.Mode().IsRegular():
		return Secret{}, fmt.Errorf("%s_file: %s is not a regular file", key, file)
	case st.Mode().Perm()&0o077 != 0:
		return Secret{}, fmt.Errorf("%s_file: %s can be read by other users (mode %04o): make it readable by the service only (chmod 600)", key, file, st.Mode().Perm())
	case st.Size() > maxSecretFile:
		return Secret{}, fmt.Errorf("%s_file: %s is larger than %d bytes: is it the right file?", key, file, maxSecretFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile))
	if err != nil {
		return Secret{}, fmt.Errorf("%s_file: %w", key, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return Secret{}, fmt.Errorf("%s_file: %s is empty", key, file)
	}
	return NewSecret(v), nil
}

// Redactor removes known secret values from text (response bodies, error
// messages) before it is logged or stored. A nil Redactor removes nothing
// and URLs are still cut by RedactURL.
type Redactor struct{ values []string }

// NewRedactor returns a Redactor for the given secrets.
func NewRedactor(secrets ...Secret) *Redactor {
	r := &Redactor{}
	for _, s := range secrets {
		r.Add(s.Reveal())
	}
	return r
}

// Add adds values to redact, with their URL-escaped and base64 forms.
func (r *Redactor) Add(values ...string) {
	for _, v := range values {
		if v == "" {
			continue
		}
		for _, f := range []string{v, url.QueryEscape(v), url.PathEscape(v), base64.StdEncoding.EncodeToString([]byte(v))} {
			if !slices.Contains(r.values, f) {
				r.values = append(r.values, f)
			}
		}
	}
	// Longest first, so that a secret containing another is removed whole.
	slices.SortFunc(r.values, func(a, b string) int { return len(b) - len(a) })
}

// Format prints "<redactor>": never the values.
func (r *Redactor) Format(f fmt.State, _ rune) { io.WriteString(f, "<redactor>") }

// With returns a new Redactor that also removes values.
func (r *Redactor) With(values ...string) *Redactor {
	n := &Redactor{}
	if r != nil {
		n.values = slices.Clone(r.values)
	}
	n.Add(values...)
	return n
}

// String returns s with every secret replaced by "<redacted>".
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.values {
		s = strings.ReplaceAll(s, v, "<redacted>")
	}
	return s
}

// RedactURL returns a URL fit for logs, errors and receipts: scheme, host
// and path, without user information or fragment, with every query value
// replaced (robot keys, access tokens and signatures travel in the query).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<invalid URL>"
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	if u.RawQuery != "" {
		q := u.Query()
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for i, k := range keys {
			if i > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=REDACTED")
		}
		u.RawQuery = b.String()
	}
	return u.String()
}
