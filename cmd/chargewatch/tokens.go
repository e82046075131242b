package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/chargewatch/chargewatch/alerting/store"
	"github.com/chargewatch/chargewatch/internal/server"
)

const tokensUsage = `usage: chargewatch tokens create --config FILE --name NAME (--person ID | --role ROLE) [--expires 720h]

Creates an API token and prints it once; only its hash is stored. A person's
token acts with that person's roles and scope from the registry (an admin
for the first token); a service token has a role of its own. Later tokens
can be made through POST /api/v1/tokens (docs/api.md).
`

func tokens(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, tokensUsage)
		return 2
	}
	fs := flag.NewFlagSet("tokens create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "/etc/chargewatch/chargewatch.yaml", "server configuration file (for the alert database)")
	name := fs.String("name", "", "what the token is for, e.g. \"laptop of Wang Wei\"")
	person := fs.String("person", "", "registry person the token acts as")
	role := fs.String("role", "", "role of a service token")
	expires := fs.Duration("expires", 0, "lifetime (0: no expiry)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := server.LoadConfig(*cfgPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	st, err := store.Open(ctx, cfg.Alerting.DB, store.Options{Synchronous: cfg.Alerting.Synchronous})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer st.Close()
	now := time.Now()
	t := store.Token{Name: *name, Person: *person, Role: *role, CreatedBy: "cli", CreatedAt: now.UnixMilli()}
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
