-- Foundation: reference data (ODS), catalog and commissioning, sessions, audit, identity provider state.

CREATE TABLE regions (
  code text PRIMARY KEY,
  name text
);

CREATE TABLE icbs (
  code text PRIMARY KEY,
  region_code text NOT NULL
);

CREATE TABLE sub_icbs (
  code text PRIMARY KEY,
  icb_code text NOT NULL,
  region_code text NOT NULL
);

CREATE TABLE practices (
  ods_code text PRIMARY KEY,
  name text NOT NULL,
  region_code text NOT NULL,
  icb_code text NOT NULL,
  sub_icb_code text,
  address text[] NOT NULL DEFAULT '{}',
  postcode text,
  phone text,
  open_date date,
  close_date date,
  status text NOT NULL CHECK (status IN ('A', 'C', 'D', 'P')),
  prescribing_setting integer,
  gp_system text NOT NULL,
  -- 'data' when the GP system came from a supplier extract, 'assigned' when allotted deterministically.
  gp_system_source text NOT NULL DEFAULT 'assigned',
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX practices_icb ON practices (icb_code);

CREATE TABLE services (
  id text PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('national', 'local')),
  type text NOT NULL CHECK (type IN ('gp-system', 'online-consultation', 'phr', 'national')),
  supplier text NOT NULL,
  integration_method text NOT NULL CHECK (integration_method IN ('native', 'web')),
  min_identity_level text NOT NULL CHECK (min_identity_level IN ('P0', 'P5', 'P9')),
  status text NOT NULL CHECK (status IN ('proposed', 'in-development', 'assurance', 'live', 'retired')),
  -- Which part of the app the hub groups it under.
  category text NOT NULL CHECK (category IN ('gp', 'record', 'consultations', 'national')),
  web_url text,
  -- For gp-system services: the clinical system a practice must run for this service to apply.
  gp_system text,
  sort_order integer NOT NULL DEFAULT 100,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE commissioning (
  id bigserial PRIMARY KEY,
  service_id text NOT NULL REFERENCES services (id),
  icb_code text NOT NULL,
  -- NULL: every practice in the ICB; otherwise only these practices.
  practice_codes text[],
  start_date date,
  end_date date,
  created_by text NOT NULL DEFAULT 'seed',
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);
CREATE INDEX commissioning_service ON commissioning (service_id);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  -- NHS number of the person whose data it is, when the access is to patient data.
  subject_nhs_number text,
  organisation text,
  action text NOT NULL,
  resource text NOT NULL,
  supplier text,
  outcome text NOT NULL,
  request_id text,
  detail jsonb
);
CREATE INDEX audit_subject ON audit_events (subject_nhs_number, at DESC);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);

-- The embedded identity provider's own state (a separate system that happens to share the store).
CREATE TABLE idp_payloads (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX idp_payloads_grant ON idp_payloads (grant_id);
CREATE INDEX idp_payloads_uid ON idp_payloads (uid);

CREATE TABLE idp_users (
  sub text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  claims jsonb NOT NULL,
  staff_roles jsonb
);
