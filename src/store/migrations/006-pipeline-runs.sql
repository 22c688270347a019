-- Assurance runs against a supplier's endpoint (conformance, accessibility, capacity): long jobs on the queue,
-- with their progress and result kept here. A gate is passed when the latest run of its kind passed.
CREATE TABLE pipeline_runs (
  id bigserial PRIMARY KEY,
  integration_id bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('conformance','accessibility','capacity')),
  target_url text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued','running','passed','failed','error')),
  progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  progress_note text,
  params jsonb NOT NULL DEFAULT '{}',
  result jsonb,
  error text,
  requested_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);

CREATE INDEX pipeline_runs_latest ON pipeline_runs (integration_id, kind, id DESC);
