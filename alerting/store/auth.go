package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/chargewatch/chargewatch/alerting"
)

// CreateSilence stores a new silence and returns it with its id.
func (s *Store) CreateSilence(ctx context.Context, sl alerting.Silence) (alerting.Silence, error) {
	rules := make([]string, len(sl.Rules))
	for i, r := range sl.Rules {
		rules[i] = string(r)
	}
	loc, err := json.Marshal(sl.Location)
	if err != nil {
		return sl, err
	}
	err = s.w.QueryRowContext(ctx, `INSERT INTO silences
		(device, building, community, rules, reason, starts_at, ends_at, created_by, created_at, location)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sl.Device, sl.Building, sl.Community, strings.Join(rules, ","), sl.Reason, sl.StartsAt, sl.EndsAt,
		sl.CreatedBy, sl.CreatedAt, string(loc)).Scan(&sl.ID)
	if err != nil {
		return sl, fmt.Errorf("create silence: %w", err)
	}
	return sl, nil
}

// EndSilence ends a silence early. It returns ErrNotFound for an unknown
// id and leaves a silence that has already ended alone.
func (s *Store) EndSilence(ctx context.Context, id int64, by string, at int64) (alerting.Silence, error) {
	_, err := s.w.ExecContext(ctx, `UPDATE silences SET ended_at = ?, ended_by = ?
		WHERE id = ? AND ended_at = 0 AND ends_at > ?`, at, by, id, at)
	if err != nil {
		return alerting.Silence{}, fmt.Errorf("end silence %d: %w", id, err)
	}
	return s.Silence(ctx, id)
}

const silenceCols = `id, device, building, community, rules, reason, starts_at, ends_at, created_by, created_at, ended_at, ended_by, location`

// Silence returns one silence.
func (s *Store) Silence(ctx context.Context, id int64) (alerting.Silence, error) {
	sls, err := s.silences(ctx, s.w, `SELECT `+silenceCols+` FROM silences WHERE id = ?`, id)
	if err != nil {
		return alerting.Silence{}, err
	}
	if len(sls) == 0 {
		return alerting.Silence{}, fmt.Errorf("silence %d: %w", id, ErrNotFound)
	}
	return sls[0], nil
}

// Silences returns the silences that have not ended by t (all of them when
// t is 0), newest first.
func (s *Store) Silences(ctx context.Context, t int64) ([]alerting.Silence, error) {
	if t == 0 {
		return s.silences(ctx, s.r, `SELECT `+silenceCols+` FROM silences ORDER BY id DESC LIMIT 1000`)
	}
	return s.silences(ctx, s.r, `SELECT `+silenceCols+` FROM silences
		WHERE ends_at > ? AND (ended_at = 0 OR ended_at > ?) ORDER BY id DESC`, t, t)
}

func (s *Store) silences(ctx context.Context, q queryer, query string, args ...any) ([]alerting.Silence, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read silences: %w", err)
	}
	defer rows.Close()
	var out []alerting.Silence
	for rows.Next() {
		var sl alerting.Silence
		var rules, loc string
		if err := rows.Scan(&sl.ID, &sl.Device, &sl.Building, &sl.Community, &rules, &sl.Reason, &sl.StartsAt, &sl.EndsAt,
			&sl.CreatedBy, &sl.CreatedAt, &sl.EndedAt, &sl.EndedBy, &loc); err != nil {
			return nil, fmt.Errorf("read silences: %w", err)
		}
		if rules != "" {
			for _, r := range strings.Split(rules, ",") {
				sl.Rules = append(sl.Rules, alerting.Rule(r))
			}
		}
		if err := json.Unmarshal([]byte(loc), &sl.Location); err != nil {
			return nil, fmt.Errorf("read silence %d: %w", sl.ID, err)
		}
		out = append(out, sl)
	}
	return out, rows.Err()
}

// Token is an API token's record. The token itself is never stored.
type Token struct {
	ID        int64          `json:"id"`
	Name      string         `json:"name"`
	Person    string         `json:"person,omitempty"` // registry person; "" for a service token
	Role      string         `json:"role,omitempty"`   // service token's role
	Scope     alerting.Scope `json:"scope"`            // service token's scope
	CreatedBy string         `json:"created_by,omitempty"`
	CreatedAt int64          `json:"created_at"`
	ExpiresAt int64          `json:"expires_at,omitempty"`
	RevokedAt int64          `json:"revoked_at,omitempty"`
	// RevokedBy is who revoked it: a person id or "token:NAME" through
	// the API, "cli:NAME" through the command line; "" for a token revoked
	// before schema version 2, which did not record it.
	RevokedBy string `json:"revoked_by,omitempty"`
	LastUsed  int64  `json:"last_used_at,omitempty"`
}

// TokenPrefix starts every token, so that a leaked one is recognisable
// (secret scanners) and a wrong kind of credential fails early.
const TokenPrefix = "cwt_"

// hashToken is the stored form of a token. Tokens are 256 random bits, so
// a plain SHA-256 is enough: there is nothing to brute-force.
func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// CreateToken stores a new token and returns it in plain text: the only
// time it is ever available.
func (s *Store) CreateToken(ctx context.Context, t Token) (string, Token, error) {
	if t.Name == "" {
		return "", t, errors.New("create token: give it a name that says who or what uses it")
	}
	if (t.Person == "") == (t.Role == "") {
		return "", t, errors.New("create token: give either a person (roles from the registry) or a role (a service token), not both")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", t, fmt.Errorf("create token: %w", err)
	}
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	scope, err := json.Marshal(t.Scope)
	if err != nil {
		return "", t, err
	}
	err = s.w.QueryRowContext(ctx, `INSERT INTO tokens (hash, name, person, role, scope, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, hashToken(tok), t.Name, t.Person, t.Role, string(scope),
		t.CreatedBy, t.CreatedAt, t.ExpiresAt).Scan(&t.ID)
	if err != nil {
		return "", t, fmt.Errorf("create token: %w", err)
	}
	return tok, t, nil
}

// ErrBadToken is returned for a token that is unknown, revoked or expired.
// The API answers 401 and does not say which.
var ErrBadToken = errors.New("invalid token")

const tokenCols = `id, name, person, role, scope, created_by, created_at, expires_at, revoked_at, revoked_by, last_used_at`

// Authenticate returns the record of a valid token at time now.
func (s *Store) Authenticate(ctx context.Context, tok string, now int64) (Token, error) {
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) > 200 {
		return Token{}, ErrBadToken
	}
	h := hashToken(tok)
	var stored []byte
	row := s.r.QueryRowContext(ctx, `SELECT hash, `+tokenCols+` FROM tokens WHERE hash = ?`, h)
	t, err := scanToken(row, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, ErrBadToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(stored, h) != 1 || t.RevokedAt != 0 || (t.ExpiresAt != 0 && now >= t.ExpiresAt) {
		return Token{}, ErrBadToken
	}
	// Last use is recorded at most once a minute per token.
	if now-t.LastUsed > 60_000 {
		if _, err := s.w.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, now, t.ID); err == nil {
			t.LastUsed = now
		}
	}
	return t, nil
}

type scanner interface{ Scan(...any) error }

func scanToken(r scanner, hash *[]byte) (Token, error) {
	var t Token
	var scope string
	dst := []any{&t.ID, &t.Name, &t.Person, &t.Role, &scope, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.RevokedAt, &t.RevokedBy, &t.LastUsed}
	if hash != nil {
		dst = append([]any{hash}, dst...)
	}
	if err := r.Scan(dst...); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(scope), &t.Scope); err != nil {
		return t, fmt.Errorf("token %d: corrupt scope: %w", t.ID, err)
	}
	return t, nil
}

// Tokens returns every token record (never the tokens).
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows, nil)
		if err != nil {
			return nil, fmt.Errorf("read tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token at time at, recording who revoked it (by,
// required), and returns its record. Revoking a revoked token changes
// nothing: the record keeps the first revocation's time and revoker.
func (s *Store) RevokeToken(ctx context.Context, id, at int64, by string) (Token, error) {
	if strings.TrimSpace(by) == "" {
		return Token{}, fmt.Errorf("revoke token %d: say who revokes it", id)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at = 0`, at, by, id); err != nil {
		return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	t, err := scanToken(tx.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id), nil)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return Token{}, fmt.Errorf("revoke token %d: %w", id, err)
	}
	return t, nil
}
