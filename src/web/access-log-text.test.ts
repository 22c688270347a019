// The access log in the citizen's words: each kind of audit row read as who, what, where and how it ended.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEntry } from '../audit/audit.ts';
import { accessLogLine } from './access-log-text.ts';

const entry = (e: Partial<AuditEntry>): AuditEntry => ({
  id: '1', at: new Date('2026-11-27T12:00:00Z'), actorType: 'citizen', actorId: 'me', action: 'read', resource: 'national-record', outcome: 'success', ...e,
});

describe('accessLogLine', () => {
  it('says what was done to which data, where it is held and how it ended', () => {
    assert.deepEqual(accessLogLine(entry({ supplier: 'pds' })), { who: 'You', what: 'Viewed your details on the national record', where: 'the Personal Demographics Service', outcome: 'Done' });
    assert.deepEqual(accessLogLine(entry({ action: 'book', resource: 'gp-appointment', supplier: 'gp-tpp', outcome: 'failed' })),
      { who: 'You', what: 'Booked a GP appointment', where: 'your GP surgery\'s system (TPP)', outcome: 'Did not work' });
    assert.equal(accessLogLine(entry({ resource: 'gp-record:test-results', supplier: 'gp-emis' })).what, 'Viewed your GP record: test results');
    assert.equal(accessLogLine(entry({ action: 'change', resource: 'organ-donation-decision' })).what, 'Changed your organ donation decision');
  });

  it('says why a change was not made, where the row records it', () => {
    const change = (detail: Record<string, unknown>) => accessLogLine(entry({ action: 'change', outcome: 'failed', supplier: 'pds', detail })).outcome;
    assert.equal(change({ outcome: 'conflict' }), 'Not made: the record had been changed since you looked');
    assert.equal(change({ outcome: 'unknown' }), 'Not confirmed yet: the service did not answer in time');
    assert.equal(change({ reason: 'timeout' }), 'Not made: the service was not available');
  });

  it('names who else reached the record, and a refusal as such', () => {
    const other = accessLogLine(entry({ actorId: 'someone-else', action: 'view-national-record', resource: 'patient', outcome: 'denied' }));
    assert.deepEqual(other, { who: 'Someone else signed in with NHS login', what: 'Tried to reach your record', where: undefined, outcome: 'Refused' });
    assert.equal(accessLogLine(entry({ actorType: 'staff', actorId: 'staff-1', organisation: 'A81001' })).who, 'NHS staff at A81001');
    assert.equal(accessLogLine(entry({ actorType: 'anonymous', actorId: 'anonymous', action: 'sign-in', resource: 'session' })).who, 'You');
  });

  it('keeps the codes of a row it has no words for, rather than hiding it', () => {
    assert.equal(accessLogLine(entry({ action: 'export', resource: 'something-new' })).what, 'export something-new');
  });
});
