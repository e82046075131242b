// Command cwpkg cross-builds chargewatch and cw-edge and packages them as
// Debian packages (.deb) with nfpm: chargewatch for amd64 and arm64,
// cw-edge for amd64, arm64 and armhf (arm7). `make package` runs it.
//
//	go run ./packaging/cmd/cwpkg [-out dist] [-version 0.2.0] [-only cw-edge] [-arch arm7]
//
// The version defaults to `git describe --tags --dirty` made Debian-sortable
// (packaging.DebVersion); file times in the packages are the last commit's
// time, so two builds of one commit give the same packages.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chargewatch/chargewatch/packaging"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fs := flag.NewFlagSet("cwpkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "dist", "folder for the packages")
	version := fs.String("version", "", "package version (default: from git describe --tags --dirty)")
	only := fs.String("only", "", "build only this package (chargewatch or cw-edge)")
	arch := fs.String("arch", "", "build only this architecture (amd64, arm64, arm7)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	repo, err := gitOut(ctx, "rev-parse", "--show-toplevel")
	if err != nil {
		fmt.Fprintf(stderr, "cwpkg: run it inside the chargewatch repository: %v\n", err)
		return 1
	}
	if *version == "" {
		d, err := gitOut(ctx, "describe", "--tags", "--dirty", "--match", "v[0-9]*")
		if err != nil {
			fmt.Fprintf(stderr, "cwpkg: no version tag to describe (git fetch --tags, or give -version): %v\n", err)
			return 1
		}
		if *version, err = packaging.DebVersion(d); err != nil {
			fmt.Fprintf(stderr, "cwpkg: %v\n", err)
			return 1
		}
	}
	mtime := time.Now()
	if s, err := gitOut(ctx, "log", "-1", "--format=%ct"); err == nil {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			mtime = time.Unix(sec, 0)
		}
	}
	bins, err := os.MkdirTemp("", "cwpkg-")
	if err != nil {
		fmt.Fprintln(stderr, "cwpkg:", err)
		return 1
	}
	defer os.RemoveAll(bins)
	built := 0
	for _, t := range packaging.Targets {
		if *only != "" && t.Name != *only {
			continue
		}
		for _, a := range t.Arches {
			if *arch != "" && a != *arch {
				continue
			}
			dir := filepath.Join(bins, a)
			if err := goBuild(ctx, repo, t.Name, a, *version, dir); err != nil {
				fmt.Fprintf(stderr, "cwpkg: %v\n", err)
				return 1
			}
			p, err := packaging.Build(packaging.Spec{Name: t.Name, Arch: a, Version: *version, BinDir: dir, Repo: repo, MTime: mtime}, *out)
			if err != nil {
				fmt.Fprintf(stderr, "cwpkg: %v\n", err)
				return 1
			}
			st, _ := os.Stat(p)
			fmt.Fprintf(stdout, "%-48s %9d bytes\n", p, st.Size())
			built++
		}
	}
	if built == 0 {
		fmt.Fprintf(stderr, "cwpkg: nothing to build for -only %q -arch %q\n", *only, *arch)
		return 2
	}
	return 0
}

// goBuild cross-builds one command, static (CGO_ENABLED=0), trimmed.
func goBuild(ctx context.Context, repo, name, arch, version, dir string) error {
	goarch, goarm, err := packaging.GoEnv(arch)
	if err != nil {
		return err
	}
	ldflags := "-s -w"
	switch name {
	case "cw-edge":
		ldflags += " -X main.version=" + version
	case "chargewatch":
		ldflags += " -X main.buildVersion=" + version
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", ldflags, "-o", filepath.Join(dir, name), "./cmd/"+name)
	cmd.Dir = repo
	cmd.Env = append(slices.Clone(os.Environ()), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s: %v\n%s", name, arch, err, out)
	}
	return nil
}

func gitOut(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "git", args...).Output()
	return strings.TrimSpace(string(out)), err
}
