package registry

import (
	"context"
	"embed"

	"github.com/chargewatch/chargewatch/internal/sqlitedb"
)

// Schema migrations are SQL files named NNNN_what.sql, numbered from 0001
// without gaps. They only ever move forward; a release never edits one that
// has shipped, it adds the next.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

var schema = sqlitedb.Schema{FS: migrationFiles, Table: "schema_migrations", Name: "the registry database"}

// loadMigrations returns the embedded migrations in order.
func loadMigrations() ([]sqlitedb.Migration, error) { return schema.Migrations() }

// SchemaVersion is the schema version this binary migrates databases to.
func SchemaVersion() int { return schema.Latest() }

// SchemaTooNewError is returned when a database was migrated by a newer
// chargewatch than this one.
type SchemaTooNewError = sqlitedb.TooNewError

func schemaVersion(ctx context.Context, q querier) (int, error) { return schema.Version(ctx, q) }
