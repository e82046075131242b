package mqttauth

import (
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mosquittoPasswd runs the real mosquitto_passwd and returns the hash it
// wrote for user.
func mosquittoPasswd(t *testing.T, algo, user, password string) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Fatal("mosquitto_passwd not found: install the mosquitto package (scripts/install-deps.sh)")
	}
	file := filepath.Join(t.TempDir(), "passwd")
	args := []string{"-c", "-b", file, user, password}
	if algo != "" {
		args = append([]string{"-H", algo}, args...)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h, ok := strings.CutPrefix(strings.TrimSpace(string(b)), user+":")
	if !ok {
		t.Fatalf("mosquitto_passwd wrote %q", b)
	}
	return h
}

// TestHashMatchesMosquittoPasswd recomputes the hash mosquitto_passwd made,
// with its salt and iteration count: the algorithm and the format are the
// same, byte for byte.
func TestHashMatchesMosquittoPasswd(t *testing.T) {
	for _, pw := range []string{"pass", "correct horse battery staple", "密码-with-ünïcode", strings.Repeat("x", 200)} {
		want := mosquittoPasswd(t, "", "u", pw)
		parts := strings.Split(want, "$")
		if len(parts) != 5 || parts[1] != "7" {
			t.Fatalf("mosquitto_passwd hash %q is not $7$", want)
		}
		iter, _ := strconv.Atoi(parts[2])
		if iter != Iterations {
			t.Errorf("mosquitto_passwd uses %d iterations, we use %d", iter, Iterations)
		}
		salt, err := base64.StdEncoding.DecodeString(parts[3])
		if err != nil || len(salt) != saltBytes {
			t.Fatalf("salt %q: %v (%d bytes)", parts[3], err, len(salt))
		}
		if got := HashWith(pw, salt, iter); got != want {
			t.Errorf("HashWith(%q) = %s, mosquitto_passwd wrote %s", pw, got, want)
		}
		if !Verify(want, pw) || Verify(want, pw+"x") || Verify(want, "") {
			t.Errorf("Verify of mosquitto_passwd's hash is wrong for %q", pw)
		}
	}
	// Our own hashes have the same shape: lengths of salt and key.
	h, err := Hash("pass")
	if err != nil {
		t.Fatal(err)
	}
	ref := mosquittoPasswd(t, "", "u", "pass")
	if len(h) != len(ref) || !strings.HasPrefix(h, "$7$101$") {
		t.Errorf("Hash = %s, shaped unlike mosquitto_passwd's %s", h, ref)
	}
	h2, _ := Hash("pass")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	// The old $6$ format (mosquitto_passwd -H sha512) verifies too.
	old := mosquittoPasswd(t, "sha512", "u", "old-secret")
	if !strings.HasPrefix(old, "$6$") || CheckHash(old) != nil || !Verify(old, "old-secret") || Verify(old, "old-secrets") {
		t.Errorf("$6$ hash %s: check %v", old, CheckHash(old))
	}
}

func TestCheckHashRefusesWhatMosquittoCannotRead(t *testing.T) {
	good := HashWith("pw", []byte("123456789012"), 101)
	parts := strings.Split(good, "$")
	for _, bad := range []string{
		"",
		"pw",
		"$2y$10$abcdefghijklmnopqrstuv", // bcrypt
		"$7$$" + parts[3] + "$" + parts[4],
		"$7$0$" + parts[3] + "$" + parts[4],
		"$7$-5$" + parts[3] + "$" + parts[4],
		"$7$0101$" + parts[3] + "$" + parts[4],
		"$7$100001$" + parts[3] + "$" + parts[4],
		"$7$101$" + parts[3] + "$" + parts[4][:20],
		"$7$101$not base64!$" + parts[4],
		"$7$101$$" + parts[4],
		"$7$101$" + parts[3] + "$" + parts[4] + "$",
		"$6$" + parts[3],
		good + "\n",
	} {
		err := CheckHash(bad)
		if !errors.Is(err, ErrHashFormat) {
			t.Errorf("CheckHash(%q) = %v, want ErrHashFormat", bad, err)
			continue
		}
		if bad != "" && len(bad) > 8 && strings.Contains(err.Error(), bad) {
			t.Errorf("the error repeats the hash: %v", err)
		}
		if Verify(bad, "pw") {
			t.Errorf("Verify(%q) is true", bad)
		}
	}
	if err := CheckHash(good); err != nil || !Verify(good, "pw") {
		t.Errorf("good hash: %v", err)
	}
}

func TestNewPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		pw, err := NewPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(pw) != 32 || strings.ContainsAny(pw, ":$ \n/+=") || seen[pw] {
			t.Fatalf("password %q", pw)
		}
		seen[pw] = true
	}
}

// FuzzCheckHash: a password_hash from a site file is untrusted text that
// ends up in the broker's password file. CheckHash never panics, never
// accepts a line break or a colon (which would add a line or a field to
// the password file), and Verify agrees with it.
func FuzzCheckHash(f *testing.F) {
	f.Add(HashWith("pw", []byte("123456789012"), 101), "pw")
	f.Add("$6$c2FsdA==$"+strings.Repeat("A", 86)+"==", "pw")
	f.Add("$7$1000000$AAAA$AAAA", "")
	f.Add("$7$101$\nuser2:$7$101$", "x")
	f.Fuzz(func(t *testing.T, h, pw string) {
		err := CheckHash(h)
		if err == nil && strings.ContainsAny(h, "\r\n:") {
			t.Fatalf("accepted %q", h)
		}
		if err != nil && Verify(h, pw) {
			t.Fatalf("Verify accepts a hash CheckHash refuses: %q", h)
		}
	})
}
