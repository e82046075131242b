-- 0002: who revoked a token, next to when.
--
-- revoked_by is the subject that revoked it: a person id or "token:NAME"
-- through the API, "cli:NAME" through `chargewatch tokens revoke`. Tokens
-- revoked before this migration keep '' (the revoker was not recorded).

ALTER TABLE tokens ADD COLUMN revoked_by TEXT NOT NULL DEFAULT '';
