-- The integration pipeline: the route an approved proposal takes into the app (solution design, development in a
-- sandpit, assurance, connection agreement, live, retired), with the evidence each gate needs. The steps before it
-- live on the proposal: eligibility answers, the proposal itself (the expression of interest), and the decision in
-- its prioritisation round. Every change is also written to audit_events with before/after in its detail.

-- Eligibility (commissioned in England, free at the point of use, personalised to the citizen): recorded with the
-- proposal, all three 'yes' (a 'no' stops the proposal before anything is saved). Null on proposals made before.
ALTER TABLE proposals ADD COLUMN eligibility jsonb;

-- Prioritisation rounds are calendar quarters (UTC), named from the decision date, e.g. 2026-Q4.
ALTER TABLE decisions ADD COLUMN round text GENERATED ALWAYS AS (
  (extract(year FROM (decided_at AT TIME ZONE 'UTC'))::int)::text || '-Q' || (extract(quarter FROM (decided_at AT TIME ZONE 'UTC'))::int)::text
) STORED;

-- The conformance checklist as data: what a supplier must evidence, item by item, before its connection agreement.
CREATE TABLE assurance_checklist (
  item text PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  applies_to text NOT NULL DEFAULT 'all' CHECK (applies_to IN ('all', 'native', 'web')),
  sort_order integer NOT NULL
);
INSERT INTO assurance_checklist (item, name, description, applies_to, sort_order) VALUES
  ('api-contract', 'Meets the service type''s API contract', 'The endpoint answers every call in the service type''s contract as specified; the conformance suite passes.', 'all', 10),
  ('supplier-errors', 'Handles errors and outages', 'Errors come back in the contract''s error shape, timeouts are honoured, and planned downtime is announced.', 'all', 20),
  ('nhs-login-sso', 'NHS login single sign-on', 'Citizens arrive signed in through NHS login with no second login, at the identity level the design names.', 'all', 30),
  ('accessibility-statement', 'Accessibility statement', 'A published accessibility statement for the supplier''s pages, meeting WCAG 2.2 AA.', 'web', 40),
  ('clinical-safety-case', 'Clinical safety case (DCB0129)', 'A DCB0129 clinical safety case and hazard log, signed by the named clinical safety officer.', 'all', 50),
  ('dspt', 'Data Security and Protection Toolkit', 'The supplier''s current DSPT submission, with its status (Standards met is required).', 'all', 60),
  ('penetration-test', 'Penetration test', 'An independent penetration test of the service within the last 12 months, with findings fixed.', 'all', 70),
  ('service-desk', 'Service desk and incident process', 'Hours, contacts and how incidents are raised with and by the national app team.', 'all', 80),
  ('data-processing-agreement', 'Data processing agreement', 'A data processing agreement covering the data that flows between the app and the service.', 'all', 90);

CREATE TABLE integrations (
  id bigserial PRIMARY KEY,
  proposal_id bigint NOT NULL UNIQUE REFERENCES proposals (id),
  supplier_id text NOT NULL REFERENCES suppliers (id),
  service_type text NOT NULL CHECK (service_type IN ('gp-system', 'online-consultation', 'phr')),
  integration_method text NOT NULL CHECK (integration_method IN ('native', 'web')),
  -- The prioritisation round whose decision approved it.
  round text NOT NULL,
  stage text NOT NULL DEFAULT 'solution-design'
    CHECK (stage IN ('solution-design', 'development', 'assurance', 'connection-agreement', 'live', 'retired')),
  -- Solution design: {apis, dataFlows, identityLevel, safetyOfficer, recordedBy, recordedAt}.
  design jsonb,
  -- What the supplier registers: its API base URL, and for web integrations the page citizens are sent to.
  endpoint_url text,
  web_url text,
  -- Sandbox credentials: the secret is shown once and kept only as an scrypt hash.
  client_id text UNIQUE,
  client_secret_hash text,
  credentials_issued_by text,
  credentials_issued_at timestamptz,
  -- Evidence gates, signed off by the national team.
  safety_case_reference text,
  safety_signed_off_by text,
  safety_signed_off_at timestamptz,
  dspt_status text CHECK (dspt_status IN ('Standards met', 'Approaching standards', 'Standards not met')),
  dspt_recorded_by text,
  dspt_recorded_at timestamptz,
  -- Connection agreement: who signed it for the supplier, and who recorded it when.
  agreement_signatory text,
  agreement_recorded_by text,
  agreement_signed_at timestamptz,
  live_by text,
  live_reason text,
  live_at timestamptz,
  catalog_service_id text REFERENCES services (id),
  retired_by text,
  retired_reason text,
  retired_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX integrations_supplier ON integrations (supplier_id);

-- The supplier's evidence against each checklist item.
CREATE TABLE assurance_evidence (
  integration_id bigint NOT NULL REFERENCES integrations (id),
  item text NOT NULL REFERENCES assurance_checklist (item),
  evidence text NOT NULL CHECK (length(evidence) BETWEEN 1 AND 2000),
  completed_by text NOT NULL,
  completed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (integration_id, item)
);

-- An approved proposal always has its integration, opened at solution design in the decision's round, whatever
-- path approved it (approval is a status change; rows inserted already approved, as some tests do, bring their own). The function body keeps no line ending in a semicolon (the migration runner splits on those).
CREATE FUNCTION open_integration_on_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO integrations (proposal_id, supplier_id, service_type, integration_method, round)
  SELECT NEW.id, NEW.supplier_id, NEW.service_type, NEW.integration_method,
         coalesce((SELECT d.round FROM decisions d WHERE d.proposal_id = NEW.id AND d.outcome = 'approve' ORDER BY d.decided_at DESC, d.id DESC LIMIT 1),
                  (extract(year FROM (now() AT TIME ZONE 'UTC'))::int)::text || '-Q' || (extract(quarter FROM (now() AT TIME ZONE 'UTC'))::int)::text)
  ON CONFLICT (proposal_id) DO NOTHING
  ; RETURN NEW
  ; END
$$;

CREATE TRIGGER proposals_open_integration AFTER UPDATE OF status ON proposals
  FOR EACH ROW WHEN (NEW.status = 'approved' AND OLD.status <> 'approved') EXECUTE FUNCTION open_integration_on_approval();

-- Proposals approved before this migration.
INSERT INTO integrations (proposal_id, supplier_id, service_type, integration_method, round)
SELECT p.id, p.supplier_id, p.service_type, p.integration_method,
       coalesce((SELECT d.round FROM decisions d WHERE d.proposal_id = p.id AND d.outcome = 'approve' ORDER BY d.decided_at DESC, d.id DESC LIMIT 1), 'before rounds')
FROM proposals p WHERE p.status = 'approved'
ON CONFLICT (proposal_id) DO NOTHING;

ALTER TABLE pipeline_runs ADD CONSTRAINT pipeline_runs_integration FOREIGN KEY (integration_id) REFERENCES integrations (id);

CREATE INDEX audit_integrations ON audit_events (resource, at DESC) WHERE resource LIKE 'integration:%';
