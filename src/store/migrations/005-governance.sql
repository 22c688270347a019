-- Governance: the supplier registry and its frameworks, integration proposals with evidence per published criterion,
-- support recorded by commissioners and providers, the scoring model as data, decisions, and public feedback.
-- Every change is also written to audit_events with before/after in its detail.

CREATE TABLE suppliers (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
  name text NOT NULL,
  contact_name text,
  contact_email text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The frameworks a supplier is on govern which service types it may propose.
CREATE TABLE supplier_frameworks (
  supplier_id text NOT NULL REFERENCES suppliers (id),
  framework text NOT NULL CHECK (framework IN ('gp-it-futures', 'dps', 'itp')),
  awarded_on date,
  PRIMARY KEY (supplier_id, framework)
);

CREATE TABLE engagement_log (
  id bigserial PRIMARY KEY,
  supplier_id text NOT NULL REFERENCES suppliers (id),
  on_date date NOT NULL,
  kind text NOT NULL CHECK (kind IN ('meeting', 'agreement', 'issue')),
  summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 2000),
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX engagement_log_supplier ON engagement_log (supplier_id, on_date DESC);

-- The maintained list proposals choose their strategic priority from.
CREATE TABLE strategic_priorities (
  code text PRIMARY KEY,
  name text NOT NULL,
  active boolean NOT NULL DEFAULT true,
  sort_order integer NOT NULL DEFAULT 100
);
INSERT INTO strategic_priorities (code, name, sort_order) VALUES
  ('records-access', 'Access to health records', 10),
  ('staff-burden', 'Reducing burden on staff', 20),
  ('primary-care-access', 'Improving access to primary care', 30),
  ('elective-recovery', 'Elective recovery and waiting times', 40),
  ('prevention', 'Prevention and self-care', 50),
  ('urgent-care-navigation', 'Urgent and emergency care navigation', 60);

-- The published scoring model: each criterion with its weight, what it means and how it is scored, as data.
CREATE TABLE scoring_model (
  criterion text PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL,
  weight integer NOT NULL CHECK (weight BETWEEN 0 AND 10),
  -- 'computed': points follow from recorded evidence by the stated rule; 'assessed': the national team scores it.
  method text NOT NULL CHECK (method IN ('computed', 'assessed')),
  rule text NOT NULL,
  sort_order integer NOT NULL
);
INSERT INTO scoring_model (criterion, name, description, weight, method, rule, sort_order) VALUES
  ('user-need', 'Confirmed user need', 'Evidence that citizens need the service, and where that evidence comes from (research, complaints, usage data).', 3, 'assessed', 'Scored 0 to 3 by the national app team from the evidence and the strength of its source.', 10),
  ('citizen-facing', 'Citizen facing', 'The service is used by citizens themselves, not only by staff on their behalf.', 1, 'computed', '3 points when the service is citizen facing, otherwise 0.', 20),
  ('strategic-priority', 'Strategic priority', 'How the service serves one or more of the published strategic priorities.', 2, 'assessed', 'Scored 0 to 3 by the national app team; a proposal must name at least one priority from the maintained list.', 30),
  ('provider-support', 'Support from local providers', 'Practices and trusts that support the service, and whether their business processes must change.', 2, 'computed', 'From providers that recorded support: none 0, 1 provider 1, 2 to 4 providers 2, 5 or more 3.', 40),
  ('commissioner-support', 'Support from local commissioners', 'Integrated care boards that support the service, the practices they cover (from ODS data) and the population covered.', 5, 'computed', 'From the population covered by ICBs that recorded support: none 0, under 250,000 people 1, under 1,000,000 people 2, 1,000,000 or more 3.', 50),
  ('added-value', 'Added value to the app', 'What the service adds beyond what citizens can already do in the app.', 2, 'assessed', 'Scored 0 to 3 by the national app team.', 60);

CREATE TABLE proposals (
  id bigserial PRIMARY KEY,
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
  summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 4000),
  service_type text NOT NULL CHECK (service_type IN ('gp-system', 'online-consultation', 'phr')),
  integration_method text NOT NULL CHECK (integration_method IN ('native', 'web')),
  supplier_id text NOT NULL REFERENCES suppliers (id),
  proposer_role text NOT NULL CHECK (proposer_role IN ('region', 'commissioner', 'supplier')),
  proposer_organisation text NOT NULL,
  -- The region whose backlog the proposal sits in.
  region_code text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'deferred', 'approved', 'rejected')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proposals_region ON proposals (region_code, status);

-- The proposer's evidence, one row per published criterion (its shape depends on the criterion).
CREATE TABLE proposal_evidence (
  proposal_id bigint NOT NULL REFERENCES proposals (id),
  criterion text NOT NULL REFERENCES scoring_model (criterion),
  evidence jsonb NOT NULL,
  PRIMARY KEY (proposal_id, criterion)
);

-- Support recorded by a commissioner for its ICB, or by a provider for its practice or trust; once per organisation.
CREATE TABLE proposal_support (
  proposal_id bigint NOT NULL REFERENCES proposals (id),
  kind text NOT NULL CHECK (kind IN ('commissioner', 'provider')),
  organisation text NOT NULL,
  statement text NOT NULL CHECK (length(statement) BETWEEN 1 AND 2000),
  -- Commissioners: registered patients when they state them (else practices x the national average list size).
  registered_patients integer CHECK (registered_patients IS NULL OR registered_patients > 0),
  -- Providers: whether their business processes must change.
  process_change boolean,
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (proposal_id, kind, organisation)
);

-- The national team's points on the assessed criteria.
CREATE TABLE proposal_assessments (
  proposal_id bigint NOT NULL REFERENCES proposals (id),
  criterion text NOT NULL REFERENCES scoring_model (criterion),
  points integer NOT NULL CHECK (points BETWEEN 0 AND 3),
  note text,
  assessed_by text NOT NULL,
  assessed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (proposal_id, criterion)
);

CREATE TABLE decisions (
  id bigserial PRIMARY KEY,
  proposal_id bigint NOT NULL REFERENCES proposals (id),
  outcome text NOT NULL CHECK (outcome IN ('approve', 'defer', 'reject')),
  rationale text NOT NULL CHECK (length(rationale) BETWEEN 1 AND 4000),
  -- The score and its breakdown as they stood when decided, with the model's weights then.
  score numeric NOT NULL,
  breakdown jsonb NOT NULL,
  feedback_considered integer NOT NULL DEFAULT 0,
  decided_by text NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_proposal ON decisions (proposal_id, decided_at DESC);

-- Public feedback on the criteria or an open proposal: no name or contact details are collected, and nothing
-- is shown until the national team publishes it.
CREATE TABLE feedback (
  id bigserial PRIMARY KEY,
  target_kind text NOT NULL CHECK (target_kind IN ('criterion', 'proposal')),
  criterion text REFERENCES scoring_model (criterion),
  proposal_id bigint REFERENCES proposals (id),
  rating text NOT NULL CHECK (rating IN ('agree', 'partly', 'disagree')),
  comment text NOT NULL CHECK (length(comment) BETWEEN 1 AND 1200),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'rejected')),
  submitted_at timestamptz NOT NULL DEFAULT now(),
  moderated_by text,
  moderated_at timestamptz,
  CHECK ((target_kind = 'criterion' AND criterion IS NOT NULL AND proposal_id IS NULL) OR (target_kind = 'proposal' AND proposal_id IS NOT NULL AND criterion IS NULL))
);
CREATE INDEX feedback_status ON feedback (status, submitted_at);

CREATE INDEX audit_governance ON audit_events (resource, at DESC) WHERE actor_type = 'staff';
