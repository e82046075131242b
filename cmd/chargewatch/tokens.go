package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/devices/registry"
	"github.com/chargewatch/chargewatch/internal/server"
)

const tokensUsage = `usage: chargewatch tokens create --config FILE --name NAME (--person ID | --role ROLE) [--expires 720h] [--by NAME]
       chargewatch tokens list --config FILE [--json]
       chargewatch tokens revoke --config FILE [--by NAME] ID

create makes an API token and prints it once; only its hash is stored. A
person's token acts with that person's roles and scope from the registry (an
admin for the first token); a service token has a role of its own. Later
tokens can be made through POST /api/v1/tokens (docs/api.md).

list prints the token records (never the tokens): who created each and when,
its expiry, who revoked it and when, its last use. Times are Asia/Shanghai.

revoke revokes the token with that id; it stops working at its next request.
The record keeps who revoked it: "cli:NAME", where NAME is --by, or else the
login that ran the command ($SUDO_USER under sudo, else the OS user).
Revoking a revoked token changes nothing and says who revoked it.
`

func tokens(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, tokensUsage)
		return 2
	}
	switch args[0] {
	case "create":
		return tokensCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return tokensList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return tokensRevoke(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, tokensUsage)
		return 0
	}
	fmt.Fprintf(stderr, "tokens: unknown command %q\n%s", args[0], tokensUsage)
	return 2
}

// tokenFlags are the flags every tokens command has.
type tokenFlags struct {
	fs     *flag.FlagSet
	config *string
}

func newTokenFlags(cmd string, stderr io.Writer) tokenFlags {
	fs := flag.NewFlagSet("tokens "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tokensUsage) }
	return tokenFlags{fs: fs, config: fs.String("config", "/etc/chargewatch/chargewatch.yaml", "server configuration file (for the alert database)")}
}

// open opens the alert store the configuration names.
func (f tokenFlags) open(ctx context.Context) (*store.Store, error) {
	cfg, err := server.LoadConfig(*f.config)
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.Alerting.DB, store.Options{Synchronous: cfg.Alerting.Synchronous})
}

// byFlag adds --by, the operator a change is recorded against.
func byFlag(fs *flag.FlagSet) *string {
	return fs.String("by", "", "who does this, recorded as cli:NAME (default: $SUDO_USER under sudo, else the OS user)")
}

// operator returns who runs a command, as recorded in token records:
// "cli:" and the --by name, else $SUDO_USER, else the OS user's name, else
// "uid N".
func operator(by string) string {
	name := strings.TrimSpace(by)
	if name == "" {
		name = os.Getenv("SUDO_USER")
	}
	if name == "" {
		if u, err := user.Current(); err == nil {
			name = u.Username
		}
	}
	if name == "" {
		name = "uid " + strconv.Itoa(os.Getuid())
	}
	return "cli:" + name
}

func tokensCreate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newTokenFlags("create", stderr)
	name := f.fs.String("name", "", "what the token is for, e.g. \"laptop of Wang Wei\"")
	person := f.fs.String("person", "", "registry person the token acts as")
	role := f.fs.String("role", "", "role of a service token")
	expires := f.fs.Duration("expires", 0, "lifetime (0: no expiry)")
	by := byFlag(f.fs)
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	if f.fs.NArg() != 0 {
		fmt.Fprintf(stderr, "tokens create: unexpected arguments %q\n%s", f.fs.Args(), tokensUsage)
		return 2
	}
	who := operator(*by)
	st, err := f.open(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	now := time.Now()
	t := store.Token{Name: *name, Person: *person, Role: *role, CreatedBy: who, CreatedAt: now.UnixMilli()}
	if *expires > 0 {
		t.ExpiresAt = now.Add(*expires).UnixMilli()
	}
	secret, _, err := st.CreateToken(ctx, t)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintln(stdout, secret)
	return 0
}

func tokensList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newTokenFlags("list", stderr)
	asJSON := f.fs.Bool("json", false, "print JSON, as GET /api/v1/tokens does")
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	if f.fs.NArg() != 0 {
		fmt.Fprintf(stderr, "tokens list: unexpected arguments %q\n%s", f.fs.Args(), tokensUsage)
		return 2
	}
	st, err := f.open(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	ts, err := st.Tokens(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		if ts == nil {
			ts = []store.Token{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"tokens": ts}); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	writeTokens(stdout, ts)
	return 0
}

// writeTokens prints token records as a table, times in Asia/Shanghai.
func writeTokens(w io.Writer, ts []store.Token) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPERSON/ROLE\tCREATED (Asia/Shanghai)\tCREATED BY\tEXPIRES\tREVOKED\tREVOKED BY\tLAST USED")
	for _, t := range ts {
		who := t.Person
		if who == "" {
			who = "role " + t.Role
		}
		revokedBy := "-"
		if t.RevokedAt != 0 {
			revokedBy = t.RevokedBy
			if revokedBy == "" {
				revokedBy = "(not recorded)" // revoked before schema version 2
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, who, tokenTime(t.CreatedAt), dashIfEmpty(t.CreatedBy),
			tokenTime(t.ExpiresAt), tokenTime(t.RevokedAt), revokedBy, tokenTime(t.LastUsed))
	}
	tw.Flush()
}

func tokenTime(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return time.UnixMilli(ms).In(registry.Shanghai()).Format("2006-01-02 15:04:05")
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func tokensRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newTokenFlags("revoke", stderr)
	by := byFlag(f.fs)
	if err := f.fs.Parse(args); err != nil {
		return 2
	}
	if f.fs.NArg() != 1 {
		fmt.Fprintf(stderr, "tokens revoke: expected one token id (see chargewatch tokens list)\n%s", tokensUsage)
		return 2
	}
	id, err := strconv.ParseInt(f.fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		fmt.Fprintf(stderr, "tokens revoke: token id %q is not a positive integer (see chargewatch tokens list)\n", f.fs.Arg(0))
		return 2
	}
	who := operator(*by)
	st, err := f.open(ctx)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	at := time.Now().UnixMilli()
	rec, err := st.RevokeToken(ctx, id, at, who)
	if err != nil {
		fmt.Fprintln(stderr, "tokens revoke:", err)
		return 1
	}
	if rec.RevokedAt == at && rec.RevokedBy == who {
		fmt.Fprintf(stdout, "token %d (%s) revoked by %s at %s\n", rec.ID, rec.Name, rec.RevokedBy, tokenTime(rec.RevokedAt))
		return 0
	}
	fmt.Fprintf(stdout, "token %d (%s) was already revoked by %s at %s: nothing changed\n", rec.ID, rec.Name,
		dashIfEmpty(rec.RevokedBy), tokenTime(rec.RevokedAt))
	return 0
}
