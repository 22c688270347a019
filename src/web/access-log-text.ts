// The citizen's access log in their words: each audit row as who, what and how it ended, instead of the audit
// table's codes ("read national-record (pds)"). Rows this does not know keep their codes, so nothing is hidden.
import type { AuditEntry } from '../audit/audit.ts';

/** What each resource is, to the citizen, per action; `*` for any action not listed. */
const WHAT: Record<string, Record<string, string>> = {
  'national-record': { read: 'Viewed your details on the national record', change: 'Changed your details on the national record' },
  'organ-donation-decision': { read: 'Viewed your organ donation decision', change: 'Changed your organ donation decision' },
  'organ-donation-history': { read: 'Viewed the history of your organ donation decision' },
  'contact-preferences': { read: 'Viewed your contact preferences', change: 'Changed your contact preferences or data opt-out' },
  'contact-preferences-history': { read: 'Viewed the history of your contact preferences' },
  'gp-linkage': { '*': 'Connected to your GP surgery\'s online services' },
  'gp-appointments': { read: 'Viewed your GP appointments' },
  'gp-slots': { read: 'Looked for free GP appointments' },
  'gp-appointment': { book: 'Booked a GP appointment', cancel: 'Cancelled a GP appointment', replay: 'Booked a GP appointment (a repeated request, booked once)', read: 'Looked at a GP appointment' },
  'gp-repeats': { read: 'Viewed your repeat prescriptions' },
  'gp-repeat-requests': { read: 'Viewed your repeat prescription requests' },
  'gp-repeat-request': { request: 'Ordered a repeat prescription', replay: 'Ordered a repeat prescription (a repeated request, ordered once)' },
  'gp-pharmacy': { read: 'Viewed your nominated pharmacy', update: 'Changed your nominated pharmacy' },
  session: { 'sign-in': 'Signed in to Front Door' },
  patient: { '*': 'Tried to reach your record' },
};

/** GP record sections, as the GP record pages name them. */
const RECORD_SECTIONS: Record<string, string> = {
  allergies: 'allergies', medications: 'medicines', problems: 'health problems', immunisations: 'vaccinations',
  'test-results': 'test results', consultations: 'consultations and documents',
};

/** Who holds the data each supplier code stands for. */
const SUPPLIERS: Record<string, string> = {
  pds: 'the Personal Demographics Service', 'organ-donation': 'the NHS Organ Donation Register', 'contact-preferences': 'the NHS contact preferences service',
  'gp-emis': 'your GP surgery\'s system (EMIS)', 'gp-tpp': 'your GP surgery\'s system (TPP)', 'gp-vision': 'your GP surgery\'s system (Vision)',
  'gp-microtest': 'your GP surgery\'s system (Microtest)',
};

const OUTCOMES: Record<AuditEntry['outcome'], string> = { success: 'Done', failed: 'Did not work', denied: 'Refused', 'not-found': 'Nothing found' };

export interface AccessLogLine { who: string; what: string; where?: string; outcome: string }

export function accessLogLine(e: AuditEntry): AccessLogLine {
  const section = /^gp-record:(.+)$/.exec(e.resource)?.[1];
  const service = /^service:(.+)$/.exec(e.resource)?.[1];
  const words = WHAT[e.resource];
  const what = section ? `Viewed your GP record: ${RECORD_SECTIONS[section] ?? section}`
    : service && e.action === 'sign-in hand-off' ? 'Went, signed in, to a service run by another organisation'
    : words?.[e.action] ?? words?.['*'] ?? `${e.action} ${e.resource}`;
  return {
    who: who(e),
    what,
    where: e.supplier ? SUPPLIERS[e.supplier] ?? e.supplier : undefined,
    outcome: outcome(e),
  };
}

/** How it ended; a change that was not made says why, where the row records it. */
function outcome(e: AuditEntry): string {
  const why = e.detail?.outcome;
  if (e.outcome === 'failed' && why === 'conflict') return 'Not made: the record had been changed since you looked';
  if (e.outcome === 'failed' && why === 'unknown') return 'Not confirmed yet: the service did not answer in time';
  if (e.outcome === 'failed' && e.action === 'change') return 'Not made: the service was not available';
  return OUTCOMES[e.outcome] ?? e.outcome;
}

function who(e: AuditEntry): string {
  // The access gate lets a citizen reach only their own record, so a citizen's row on this log is theirs, except
  // the gate's refusal of someone who asked for this record: that row names this person as its subject.
  if (e.actorType === 'citizen') return e.resource === 'patient' && e.outcome === 'denied' ? 'Someone else signed in with NHS login' : 'You';
  // A sign-in is recorded while the session is being made, before anyone is signed in: it was the citizen.
  if (e.actorType === 'anonymous' && e.action === 'sign-in') return 'You';
  if (e.actorType === 'staff') return e.organisation ? `NHS staff at ${e.organisation}` : 'NHS staff';
  if (e.actorType === 'system') return 'Front Door';
  return 'Someone not signed in';
}
