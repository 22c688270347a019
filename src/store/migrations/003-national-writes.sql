-- Writes to national agencies, one row per intended change: the request id is made once and reused on every
-- retry, so a resubmitted form or a retry after a timeout never makes a second change.
CREATE TABLE national_writes (
  request_id text PRIMARY KEY,
  agency text NOT NULL,
  nhs_number text NOT NULL,
  intent jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'applied', 'conflict', 'refused', 'failed')),
  result_version integer,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX national_writes_patient ON national_writes (nhs_number, created_at);
