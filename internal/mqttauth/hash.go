// Package mqttauth makes the broker's credentials and access rules from the
// registry: a Mosquitto password file (hashed as mosquitto_passwd makes
// them), an ACL file that confines every gateway to its own topics, and the
// passwords of chargewatch's own accounts in files only the service can
// read. `chargewatch mqtt-auth` is its command line; docs/security.md
// describes the flow.
//
// Accounts:
//
//   - a gateway (or a device that connects by itself) logs in with its id as
//     username (and, with Mosquitto's use_username_as_clientid, as client
//     id), with the password whose hash the registry holds as password_hash;
//     it may publish only under cw/v1/<its id>/# and read only
//     cw/v1/<its id>/+/cmd;
//   - each of the ingester's two MQTT sessions has an account of its own,
//     named after its client id (<mqtt.client_id>-telemetry and -events),
//     which may read its channels and $SYS/broker/publish/messages/dropped
//     and write nothing;
//   - with Options.Simulators, gateways that have no password_hash get an
//     account with the simulators' shared password (demo and load tests).
package mqttauth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mosquitto 2.0's password hashes: "$7$<iterations>$<salt>$<hash>", with
// PBKDF2-HMAC-SHA512, standard base64 with padding, a 12-byte salt and a
// 64-byte key. mosquitto_passwd 2.0.11 uses 101 iterations. Mosquitto also
// reads the older "$6$<salt>$<hash>" (one round of SHA-512 over password
// and salt), which a registry may still hold.
const (
	// Iterations is what mosquitto_passwd 2.0 uses. The passwords made
	// here are 192 random bits, so more iterations would only cost broker
	// CPU at every connect (a million gateways reconnect after a restart).
	Iterations = 101
	saltBytes  = 12
	keyBytes   = sha512.Size
	// maxIterations bounds what a hash from the registry may ask of the
	// broker at every connect.
	maxIterations = 100_000
)

// HashWith returns the Mosquitto "$7$" hash of password with the given salt
// and iteration count.
func HashWith(password string, salt []byte, iterations int) string {
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, keyBytes)
	if err != nil {
		// Only FIPS-140 mode refuses these parameters.
		panic(fmt.Sprintf("mqttauth: pbkdf2: %v", err))
	}
	enc := base64.StdEncoding
	return "$7$" + strconv.Itoa(iterations) + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(key)
}

// Hash returns the Mosquitto hash of password with a random salt, as
// `mosquitto_passwd` would write it.
func Hash(password string) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return HashWith(password, salt, Iterations), nil
}

// NewPassword returns a random password: 24 bytes (192 bits) in base64url,
// 32 characters that need no quoting anywhere.
func NewPassword() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// parsed is a decoded hash.
type parsed struct {
	kind       byte // '6' or '7'
	iterations int
	salt, key  []byte
}

// ErrHashFormat is wrapped by every error of CheckHash.
var ErrHashFormat = errors.New("not a Mosquitto password hash")

func parse(h string) (parsed, error) {
	bad := func(why string) (parsed, error) {
		return parsed{}, fmt.Errorf("%w (%s): make it with `chargewatch mqtt-auth secret GATEWAY` or `mosquitto_passwd`", ErrHashFormat, why)
	}
	if strings.ContainsAny(h, " \t\r\n:") {
		return bad("white space or a colon in it") // base64 decoding would skip newlines
	}
	parts := strings.Split(h, "$")
	var p parsed
	var salt, key string
	switch {
	case len(parts) == 5 && parts[0] == "" && parts[1] == "7":
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 || n > maxIterations || parts[2] != strconv.Itoa(n) {
			return bad(fmt.Sprintf("iterations must be a number from 1 to %d", maxIterations))
		}
		p.kind, p.iterations, salt, key = '7', n, parts[3], parts[4]
	case len(parts) == 4 && parts[0] == "" && parts[1] == "6":
		p.kind, salt, key = '6', parts[2], parts[3]
	default:
		return bad(`want "$7$<iterations>$<salt>$<hash>" or "$6$<salt>$<hash>"`)
	}
	var err error
	if p.salt, err = base64.StdEncoding.DecodeString(salt); err != nil || len(p.salt) == 0 || len(p.salt) > 64 {
		return bad("the salt is not base64 of 1 to 64 bytes")
	}
	if p.key, err = base64.StdEncoding.DecodeString(key); err != nil || len(p.key) != keyBytes {
		return bad("the hash is not base64 of a 64-byte SHA-512 digest")
	}
	return p, nil
}

// CheckHash reports whether h is a hash Mosquitto 2.0 reads. The error
// never contains h.
func CheckHash(h string) error {
	_, err := parse(h)
	return err
}

// Verify reports whether password matches hash h, as Mosquitto checks it.
func Verify(h, password string) bool {
	p, err := parse(h)
	if err != nil {
		return false
	}
	var got []byte
	switch p.kind {
	case '7':
		got, err = pbkdf2.Key(sha512.New, password, p.salt, p.iterations, keyBytes)
		if err != nil {
			return false
		}
	case '6':
		d := sha512.New()
		d.Write([]byte(password))
		d.Write(p.salt)
		got = d.Sum(nil)
	}
	return subtle.ConstantTimeCompare(got, p.key) == 1
}
