// Test support: an integration row for runs to belong to (pipeline_runs.integration_id is a foreign key),
// made straight in SQL so the run tests do not depend on the pipeline's own services.
import type { Queryable } from '../../store/store.ts';

export async function insertTestIntegration(db: Queryable, opts: { supplierId?: string; serviceType?: 'gp-system' | 'online-consultation' | 'phr'; method?: 'native' | 'web' } = {}): Promise<string> {
  const supplierId = opts.supplierId ?? 'runs-test-supplier';
  const serviceType = opts.serviceType ?? 'gp-system';
  const method = opts.method ?? 'native';
  await db.query(`INSERT INTO suppliers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, [supplierId, `Supplier ${supplierId}`]);
  const [p] = await db.query<{ id: string }>(
    `INSERT INTO proposals (title, summary, service_type, integration_method, supplier_id, proposer_role, proposer_organisation, region_code, status, created_by)
     VALUES ('Run test service', 'A service for run tests', $1, $2, $3, 'supplier', $3, 'Y56', 'approved', 'test') RETURNING id`,
    [serviceType, method, supplierId],
  );
  const [i] = await db.query<{ id: string }>(
    `INSERT INTO integrations (proposal_id, supplier_id, service_type, integration_method, round) VALUES ($1, $2, $3, $4, '2026-Q4') RETURNING id`,
    [p.id, supplierId, serviceType, method],
  );
  return String(i.id);
}
