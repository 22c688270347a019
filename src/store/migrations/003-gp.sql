-- GP services: each citizen's linkage to their record at their practice's GP system, and the writes that cross
-- to a GP system (bookings, repeat requests) keyed so a retried or double-submitted form writes once.

CREATE TABLE gp_linkages (
  nhs_number text NOT NULL,
  ods_code text NOT NULL,
  gp_system text NOT NULL,
  account_id text NOT NULL,
  linkage_key text NOT NULL,
  linked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (nhs_number, ods_code, gp_system)
);

CREATE TABLE gp_writes (
  -- Derived from the form token issued with the check-your-answers page; the UNIQUE key is the idempotency.
  idempotency_key text PRIMARY KEY,
  nhs_number text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('booking', 'repeat-request')),
  gp_system text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'done')),
  -- The supplier's id for what was written (appointment or request id), once done.
  resource_id text,
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gp_writes_resource ON gp_writes (resource_id);
