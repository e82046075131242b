package mqttauth

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chargewatch/chargewatch/devices"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/ingest/adapters/accounts"
)

// File names in the output directory.
const (
	PasswdFile = "passwd" // Mosquitto password_file
	ACLFile    = "acl"    // Mosquitto acl_file
	// SimulatorsFile holds the simulators' shared password (Options.Simulators).
	SimulatorsFile = "simulators.password"
	// passwordSuffix ends the file of a service account's password.
	passwordSuffix = ".password"
)

// Session suffixes of the ingester's client ids (ingest adds them to
// mqtt.client_id).
var sessionSuffixes = []string{"-telemetry", "-events"}

// ServiceAccounts returns the ingester's account names for a client id
// base: one per MQTT session, equal to the session's client id.
func ServiceAccounts(clientID string) (telemetry, events string) {
	return clientID + sessionSuffixes[0], clientID + sessionSuffixes[1]
}

// PasswordPath returns the file that holds the password of a service
// account in dir.
func PasswordPath(dir, account string) string { return filepath.Join(dir, account+passwordSuffix) }

// Options say what Write makes.
type Options struct {
	// ClientID is the ingester's mqtt.client_id (default
	// "chargewatch-ingest").
	ClientID string
	// Simulators gives every gateway without a password_hash an account
	// with one shared password, kept in SimulatorsFile: for the demo and
	// load tests, never for real gateways.
	Simulators bool
	// Adapters are the accounts of devices already installed that publish
	// on their own topics (ingest/adapters/accounts): each gets its
	// password hash and its topics; AdapterFilters are what the ingester's
	// events session must be able to read.
	Adapters       []accounts.ACLEntry
	AdapterFilters []string
	// RotateService makes new passwords for the service accounts (and the
	// simulators) even if their files exist. The server must then be
	// restarted with them.
	RotateService bool
}

// Report says what Write did.
type Report struct {
	Dir       string
	Telemetry string // the ingester's accounts
	Events    string
	Gateways  int      // gateways with their own password_hash
	Simulated int      // gateways given the simulators' password
	Missing   []string // gateways without an account (no password_hash), sorted
	// Adapters counts the adapter accounts given a password line;
	// AdaptersMissing names those without a password_hash (the broker must
	// authenticate them otherwise), in the order of the accounts file.
	Adapters        int
	AdaptersMissing []string
	Created         []string // secret files created (not reused)
}

// Write makes DIR/passwd and DIR/acl from a registry snapshot, and the
// password files of the service accounts (reused when they exist, so that
// running it again after a registry change does not lock the running
// server out). Files are replaced atomically (write, fsync, rename), so a
// broker reloading on SIGHUP never reads half a file. Secret files are
// created with mode 0600; an existing one that others may read is refused.
func Write(dir string, snap *registry.Snapshot, o Options) (*Report, error) {
	if o.ClientID == "" {
		o.ClientID = "chargewatch-ingest"
	}
	rep := &Report{Dir: dir}
	rep.Telemetry, rep.Events = ServiceAccounts(o.ClientID)
	if !devices.ValidID(rep.Telemetry) || !devices.ValidID(rep.Events) {
		return nil, fmt.Errorf("client id %q: the accounts %q and %q must be ids ([a-z0-9][a-z0-9._-]{0,63})", o.ClientID, rep.Telemetry, rep.Events)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	var errs []error
	secret := func(path string) string {
		pw, created, err := ensureSecret(path, o.RotateService)
		if err != nil {
			errs = append(errs, err)
		}
		if created {
			rep.Created = append(rep.Created, path)
		}
		return pw
	}
	var passwd bytes.Buffer
	passwd.WriteString("# Written by `chargewatch mqtt-auth` from the registry: do not edit, run it again.\n")
	for _, acct := range []string{rep.Telemetry, rep.Events} {
		pw := secret(PasswordPath(dir, acct))
		if pw == "" {
			continue
		}
		h, err := Hash(pw)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&passwd, "%s:%s\n", acct, h)
	}
	var simPW string
	if o.Simulators {
		simPW = secret(filepath.Join(dir, SimulatorsFile))
	}
	gws := slices.Clone(snap.Gateways())
	slices.SortFunc(gws, func(a, b *registry.Gateway) int { return strings.Compare(a.ID, b.ID) })
	for _, g := range gws {
		if g.ID == rep.Telemetry || g.ID == rep.Events {
			errs = append(errs, fmt.Errorf("gateway %q has the name of one of the ingester's accounts: rename the gateway or change mqtt.client_id", g.ID))
			continue
		}
		if !devices.ValidID(g.ID) {
			// The registry refuses such ids; a username with '/', '+' or
			// '#' would also break the ACL's %u patterns.
			errs = append(errs, fmt.Errorf("gateway %q: not a valid id", g.ID))
			continue
		}
		h := g.PasswordHash
		switch {
		case h != "":
			if err := CheckHash(h); err != nil {
				errs = append(errs, fmt.Errorf("gateway %q: password_hash: %w", g.ID, err))
				continue
			}
			rep.Gateways++
		case simPW != "":
			var err error
			if h, err = Hash(simPW); err != nil {
				return nil, err
			}
			rep.Simulated++
		default:
			rep.Missing = append(rep.Missing, g.ID)
			continue
		}
		fmt.Fprintf(&passwd, "%s:%s\n", g.ID, h)
	}
	acl := ACL(o.ClientID)
	if len(o.Adapters) > 0 {
		acl = append(acl, adapterACL(o, rep.Events)...)
		seen := map[string]bool{}
		for _, a := range o.Adapters {
			if strings.ContainsAny(a.Topic, "\r\n") || (a.Access != "read" && a.Access != "write" && a.Access != "readwrite") {
				errs = append(errs, fmt.Errorf("adapter account %q: ACL entry %q %q: access must be read, write or readwrite and the topic one line", a.Username, a.Access, a.Topic))
			}
			if seen[a.Username] {
				continue
			}
			seen[a.Username] = true
			if err := checkAdapter(a, snap, rep); err != nil {
				errs = append(errs, err)
				continue
			}
			if a.PasswordHash == "" {
				rep.AdaptersMissing = append(rep.AdaptersMissing, a.Username)
				continue
			}
			if err := CheckHash(a.PasswordHash); err != nil {
				errs = append(errs, fmt.Errorf("adapter account %q: password_hash: %w", a.Username, err))
				continue
			}
			fmt.Fprintf(&passwd, "%s:%s\n", a.Username, a.PasswordHash)
			rep.Adapters++
		}
		for _, f := range o.AdapterFilters {
			if f == "" || strings.ContainsAny(f, "\r\n") {
				errs = append(errs, fmt.Errorf("adapter filter %q: not a topic filter", f))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(dir, PasswdFile), passwd.Bytes(), 0o640); err != nil {
		return nil, err
	}
	if err := writeAtomic(filepath.Join(dir, ACLFile), acl, 0o640); err != nil {
		return nil, err
	}
	return rep, nil
}

// checkAdapter refuses an adapter account the broker files cannot hold:
// a username that is not one line of a password file, or that another
// account of the files already has, or an account tied to a gateway the
// registry does not know (accounts.File.CheckRegistry checks the rest).
func checkAdapter(a accounts.ACLEntry, snap *registry.Snapshot, rep *Report) error {
	switch {
	case a.Username == "" || strings.ContainsAny(a.Username, " \t\r\n:#+/"):
		return fmt.Errorf("adapter account %q: not a username for the broker's files (no spaces, :, /, + or #)", a.Username)
	case a.Username == rep.Telemetry || a.Username == rep.Events:
		return fmt.Errorf("adapter account %q has the name of one of the ingester's accounts: rename the account or change mqtt.client_id", a.Username)
	}
	if _, ok := snap.Gateway(a.Username); ok {
		return fmt.Errorf("adapter account %q: the username is a gateway's id: the broker makes the username the client id, so the two would throw each other off; give the account a username of its own", a.Username)
	}
	if _, ok := snap.Gateway(a.Gateway); !ok {
		return fmt.Errorf("adapter account %q: gateway %q is not registered: add it to the site file and import it (chargewatch devices import), or tie the account to a registered gateway", a.Username, a.Gateway)
	}
	return nil
}

// ACL returns the Mosquitto ACL file for the ingester's client id base.
// Mosquitto applies "pattern" lines to every account (%u is the username)
// and the lines after "user NAME" to that account only; anything not
// granted is denied.
func ACL(clientID string) []byte {
	tel, ev := ServiceAccounts(clientID)
	var b bytes.Buffer
	fmt.Fprintf(&b, `# Written by `+"`chargewatch mqtt-auth`"+`: do not edit, run it again.
# Anything not granted here is denied. Mosquitto acknowledges a denied QoS 1 publish and drops it.

# Every account may publish only under its own subtree and read only its own devices'
# commands: a gateway's username (and, with use_username_as_clientid, its client id) is its id.
pattern write cw/v1/%%u/#
pattern read cw/v1/%%u/+/cmd

# The ingester: one account per MQTT session, named as the session's client id. Read only.
user %[1]s
topic read cw/v1/+/+/telemetry
topic read $SYS/broker/publish/messages/dropped

user %[2]s
topic read cw/v1/+/+/event
topic read cw/v1/+/+/status
topic read $SYS/broker/publish/messages/dropped
`, tel, ev)
	return b.Bytes()
}

// adapterACL grants each adapter account its foreign topics, and the
// ingester's events account the right to read them.
func adapterACL(o Options, events string) []byte {
	var b bytes.Buffer
	b.WriteString("\n# Devices already installed, through adapters (docs/adapters.md).\n")
	user := ""
	for _, a := range o.Adapters {
		if a.Username != user {
			user = a.Username
			fmt.Fprintf(&b, "\nuser %s\n", user)
		}
		fmt.Fprintf(&b, "topic %s %s\n", a.Access, a.Topic)
	}
	if len(o.AdapterFilters) > 0 {
		fmt.Fprintf(&b, "\nuser %s\n", events)
		for _, f := range o.AdapterFilters {
			fmt.Fprintf(&b, "topic read %s\n", f)
		}
	}
	return b.Bytes()
}

// ensureSecret returns the password in path, creating the file with a new
// random password (mode 0600) if it does not exist or rotate is set.
func ensureSecret(path string, rotate bool) (pw string, created bool, err error) {
	if !rotate {
		pw, err := ReadSecret(path)
		if err == nil {
			return pw, false, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", false, err
		}
	}
	if pw, err = NewPassword(); err != nil {
		return "", false, err
	}
	if err := writeAtomic(path, []byte(pw+"\n"), 0o600); err != nil {
		return "", false, err
	}
	return pw, true, nil
}

// ReadSecret reads a password file: a regular file that only its owner may
// read (mode 0600 or 0400), whose first line is the password. Errors name
// the file, never its content.
func ReadSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", path)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: mode %04o lets other users read a secret: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if err != nil && n == 0 {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return "", fmt.Errorf("%s: empty: the password is the first line", path)
	}
	return line, nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory, synced and renamed over path.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
