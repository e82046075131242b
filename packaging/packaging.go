// Package packaging builds the Debian packages of chargewatch (the server)
// and cw-edge (the gateway agent) with nfpm's Go API: binaries, systemd
// units with hardening, a dedicated service user (systemd-sysusers),
// default configuration in /etc, data in /var/lib. The package contents
// are described by nfpm configuration files beside this one
// (chargewatch/nfpm.yaml, cw-edge/nfpm.yaml), so the nfpm command reads
// them too. `make package` runs packaging/cmd/cwpkg.
package packaging

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
)

// Target is a package and the architectures it is built for (Go names,
// with the ARM version: arm7 is Debian's armhf).
type Target struct {
	Name   string
	Arches []string
}

// Targets are the packages chargewatch ships.
var Targets = []Target{
	{Name: "chargewatch", Arches: []string{"amd64", "arm64"}},
	{Name: "cw-edge", Arches: []string{"amd64", "arm64", "arm7"}},
}

// GoEnv returns GOARCH and GOARM for a target architecture.
func GoEnv(arch string) (goarch, goarm string, err error) {
	switch arch {
	case "amd64", "arm64":
		return arch, "", nil
	case "arm7", "arm6":
		return "arm", arch[3:], nil
	}
	return "", "", fmt.Errorf("architecture %q: use amd64, arm64, arm7 or arm6", arch)
}

// Spec says what to package.
type Spec struct {
	Name    string    // chargewatch or cw-edge
	Arch    string    // amd64, arm64, arm7
	Version string    // Debian version, e.g. 0.2.0 or 0.1.0+git5.3f2a1bc
	BinDir  string    // folder holding the binary named Name
	Repo    string    // the repository's top folder
	MTime   time.Time // file times in the package (reproducible builds); zero: now
}

// Build writes the .deb of s into outDir and returns its path.
func Build(s Spec, outDir string) (string, error) {
	if s.Name == "" || s.Arch == "" || s.Version == "" || s.BinDir == "" || s.Repo == "" {
		return "", errors.New("packaging: name, arch, version, binary folder and repository are all needed")
	}
	if _, err := os.Stat(filepath.Join(s.BinDir, s.Name)); err != nil {
		return "", fmt.Errorf("packaging %s: the binary: %w", s.Name, err)
	}
	repo, err := filepath.Abs(s.Repo)
	if err != nil {
		return "", err
	}
	bin, err := filepath.Abs(s.BinDir)
	if err != nil {
		return "", err
	}
	env := map[string]string{"ARCH": s.Arch, "VERSION": s.Version, "BIN": bin, "REPO": repo}
	cfg, err := nfpm.ParseFileWithEnvMapping(filepath.Join(repo, "packaging", s.Name, "nfpm.yaml"), func(k string) string { return env[k] })
	if err != nil {
		return "", fmt.Errorf("packaging %s: %w", s.Name, err)
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return "", fmt.Errorf("packaging %s: %w", s.Name, err)
	}
	info = nfpm.WithDefaults(info)
	// nfpm does not expand script paths: they are relative to the repository.
	for _, sc := range []*string{&info.Scripts.PreInstall, &info.Scripts.PostInstall, &info.Scripts.PreRemove, &info.Scripts.PostRemove} {
		if *sc != "" && !filepath.IsAbs(*sc) {
			*sc = filepath.Join(repo, *sc)
		}
	}
	info.MTime = s.MTime
	if info.MTime.IsZero() {
		info.MTime = time.Now()
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, deb.Default.ConventionalFileName(info))
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	if err := deb.Default.Package(info, f); err != nil {
		f.Close()
		os.Remove(out)
		return "", fmt.Errorf("packaging %s for %s: %w", s.Name, s.Arch, err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return out, nil
}

var describe = regexp.MustCompile(`^v?(\d+\.\d+\.\d+)(?:-(\d+)-g([0-9a-f]+))?(-dirty)?$`)

// DebVersion turns `git describe --tags --dirty` output into a Debian
// version that sorts correctly: v0.1.0 is 0.1.0, five commits after it
// 0.1.0+git5.3f2a1bc (after 0.1.0, before 0.1.1), with +dirty for a tree
// with uncommitted changes.
func DebVersion(gitDescribe string) (string, error) {
	m := describe.FindStringSubmatch(strings.TrimSpace(gitDescribe))
	if m == nil {
		return "", fmt.Errorf("version %q: expected a git describe of a vX.Y.Z tag, e.g. v0.1.0-5-g3f2a1bc", gitDescribe)
	}
	v := m[1]
	if m[2] != "" {
		v += "+git" + m[2] + "." + m[3]
	}
	if m[4] != "" {
		if m[2] == "" {
			v += "+"
		} else {
			v += "."
		}
		v += "dirty"
	}
	return v, nil
}
