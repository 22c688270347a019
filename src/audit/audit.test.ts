// Audit rows written at the same moment share one INSERT, and every caller's row is there when it resumes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../store/open.ts';
import { AuditLog } from './audit.ts';

describe('audit log', () => {
  it('writes every one of many concurrent events before each caller resumes', async () => {
    const db = await openStore({});
    try {
      const audit = new AuditLog(db);
      await Promise.all(Array.from({ length: 120 }, (_, i) => audit.record({ actorType: 'citizen', actorId: `u${i}`, subjectNhsNumber: '9990079196', action: 'read', resource: 'r', outcome: 'success' }).then(async () => {
        const rows = await db.query('SELECT 1 FROM audit_events WHERE actor_id = $1', [`u${i}`]);
        assert.equal(rows.length, 1, `row for u${i} present once its caller resumes`);
      })));
      assert.equal((await audit.forSubject('9990079196', 500)).length, 120);
    } finally {
      await db.close();
    }
  });
});
