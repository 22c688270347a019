// Citizen pages for the national services: the national record (view and change), the organ donation decision
// and contact preferences with the national data opt-out. Every change: form, check your answers, confirmation.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app.ts';
import { nationalServicesFor, NationalServices, NATIONAL_LEVELS, type ReadResult, type WriteResult } from '../../national/national-services.ts';
import { newRequestId } from '../../integrations/national/http.ts';
import { LANGUAGES, WHO_CAN_CHANGE, type DemographicsChange, type DemographicsRecord, type EmergencyContact, type RestrictedField } from '../../integrations/national/demographics.ts';
import { ORGAN_CODES, type OrganChoice, type OrganDonationDecision, type OrganDonationRecord, type FaithDeclaration } from '../../integrations/national/organ-donation.ts';
import { CONTACT_CHANNELS, type ContactChannel, type ContactPreferences } from '../../integrations/national/contact-preferences.ts';
import { isRealDate, temporaryStayProblem, validateAddressLine, validateEmail, validateEmergencyContact, validateOrganCode, validatePastDate, validatePharmacyCode, validatePostcode, validateRequired, validateTime, validateUkMobile, validateUkPhone } from '../../integrations/national/validation.ts';
import { FormErrors } from '../../views/form-errors.ts';
import { dateText, dateTimeText } from '../../views/renderer.ts';

type Page = (reply: FastifyReply, view: string, ctx: Record<string, unknown>, status?: number) => FastifyReply;
type Body = Record<string, string | string[] | undefined>;
type Row = { key: { text: string }; value: { text: string }; actions?: { items: { href: string; text: string; visuallyHiddenText: string }[] } };
interface Hidden { name: string; value: string }

const str = (v: unknown): string => (Array.isArray(v) ? String(v[0] ?? '') : typeof v === 'string' ? v : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);
const row = (key: string, value: string, change?: string): Row => ({ key: { text: key }, value: { text: value || 'Not given' }, ...(change ? { actions: { items: [{ href: change, text: 'Change', visuallyHiddenText: key.toLowerCase() }] } } : {}) });

export const addressText = (a?: { lines: string[]; city?: string; postcode: string }): string =>
  a ? [...a.lines, a.city, a.postcode].filter((x) => x && String(x).trim()).join(', ') : '';

const ORGAN_NAMES: Record<string, string> = { heart: 'Heart', lungs: 'Lungs', kidneys: 'Kidneys', liver: 'Liver', corneas: 'Corneas', pancreas: 'Pancreas', tissue: 'Tissue', 'small-bowel': 'Small bowel' };
const CHOICE_NAMES: Record<OrganChoice, string> = { yes: 'Yes', no: 'No', 'not-stated': 'Not stated' };
const FAITH_NAMES: Record<FaithDeclaration, string> = { yes: 'Yes: staff should speak to my family about my faith or beliefs', no: 'No', 'not-applicable': 'Not applicable to me' };
const HISTORY_ACTIONS: Record<string, string> = { recorded: 'Recorded', amended: 'Amended', reaffirmed: 'Reaffirmed', withdrawn: 'Withdrawn' };
const CHANNEL_NAMES: Record<ContactChannel, string> = { app: 'NHS App notifications', sms: 'Text message', email: 'Email', letter: 'Letter' };

export function decisionText(d: OrganDonationDecision | null): string {
  if (!d) return 'No decision recorded';
  if (d.kind === 'opt-out') return 'No: I do not want to donate my organs or tissue';
  if (d.kind === 'representative') return `I have appointed a representative: ${d.representative.name} (${d.representative.relationship})`;
  if (d.organs === 'all') return 'Yes: I want to donate all my organs and tissue';
  const yes = Object.entries(d.organs).filter(([, c]) => c === 'yes').map(([o]) => ORGAN_NAMES[o] ?? o);
  const no = Object.entries(d.organs).filter(([, c]) => c === 'no').map(([o]) => ORGAN_NAMES[o] ?? o);
  return `Yes, some organs and tissue: ${yes.join(', ') || 'none chosen'}${no.length ? `; not: ${no.join(', ')}` : ''}`;
}

/** The fields of the national record a citizen may change here, with what each form asks. */
const RECORD_FIELDS = {
  'home-address': { label: 'Home address', title: 'Change your home address' },
  'temporary-address': { label: 'Temporary address', title: 'Add a temporary address' },
  mobile: { label: 'Mobile phone number', title: 'Change your mobile phone number' },
  email: { label: 'Email address', title: 'Change your email address' },
  'nominated-pharmacy': { label: 'Nominated pharmacy', title: 'Change your nominated pharmacy' },
  'emergency-contact': { label: 'Emergency contact', title: 'Change your emergency contact' },
  language: { label: 'Communication language', title: 'Change your communication language' },
  'remove-temporary-address': { label: 'Temporary address', title: 'Remove your temporary address' },
  'remove-emergency-contact': { label: 'Emergency contact', title: 'Remove your emergency contact' },
} as const;
type RecordField = keyof typeof RECORD_FIELDS;
const isRecordField = (f: string): f is RecordField => Object.hasOwn(RECORD_FIELDS, f);
/** Removals have no form: their check page is the question, and what they remove is the field they name. */
const REMOVES: Partial<Record<RecordField, RecordField>> = { 'remove-temporary-address': 'temporary-address', 'remove-emergency-contact': 'emergency-contact' };

/** The language list as the select macro takes it. */
const LANGUAGE_ITEMS = LANGUAGES.map((l) => ({ value: l.code, text: l.display }));

const RESTRICTED_NAMES: Record<string, RestrictedField> = { name: 'name', 'date-of-birth': 'birthDate', gender: 'gender', 'gp-practice': 'gpOdsCode', 'nhs-number': 'nhsNumber' };
const RESTRICTED_LABELS: Record<RestrictedField, string> = { name: 'name', birthDate: 'date of birth', gender: 'gender', gpOdsCode: 'GP surgery', nhsNumber: 'NHS number' };
/** Who can change a detail the citizen cannot change here, as a sentence: nobody changes an NHS number. */
const whoCanChange = (f: RestrictedField) =>
  f === 'nhsNumber' ? 'Your NHS number never changes.' : `Your ${RESTRICTED_LABELS[f]} can be changed by ${WHO_CAN_CHANGE[f]}.`;

const temporaryAddressText = (a: { lines: string[]; city?: string; postcode: string; from?: string; to?: string }): string =>
  `${addressText(a)} (${a.from ? dateText(a.from) : 'no start date'} to ${a.to ? dateText(a.to) : 'no end date'})`;

const emergencyContactText = (c?: EmergencyContact): string =>
  c ? `${c.name}${c.relationship ? ` (${c.relationship})` : ''}, ${c.phone}` : '';

/** The language's name from the list, else as the record names it. */
const languageText = (l?: { code: string; display?: string }): string =>
  l ? (LANGUAGES.find((x) => x.code === l.code)?.display ?? l.display ?? l.code) : '';

function fieldSeen(r: DemographicsRecord, field: RecordField): string {
  const f = REMOVES[field] ?? field;
  if (f === 'home-address') return addressText(r.homeAddress);
  if (f === 'nominated-pharmacy') return r.nominatedPharmacyOdsCode ?? '';
  if (f === 'emergency-contact') return emergencyContactText(r.emergencyContact);
  if (f === 'language') return languageText(r.language);
  if (f === 'temporary-address') return r.temporaryAddress ? temporaryAddressText(r.temporaryAddress) : '';
  return (f === 'mobile' ? r.mobile : r.email) ?? '';
}

/** A date from the NHS date input's three boxes, as YYYY-MM-DD (not checked here). */
function dateFrom(body: Body, prefix: string): { iso: string; values: { day: string; month: string; year: string } } {
  const values = { day: str(body[`${prefix}[day]`]).trim(), month: str(body[`${prefix}[month]`]).trim(), year: str(body[`${prefix}[year]`]).trim() };
  const iso = values.day || values.month || values.year ? `${values.year.padStart(4, '0')}-${values.month.padStart(2, '0')}-${values.day.padStart(2, '0')}` : '';
  return { iso, values };
}

interface Validated<C> { errors: FormErrors; change?: C; rows: Row[]; hidden: Hidden[]; values: Record<string, unknown> }

function validateAddress(body: Body, errors: FormErrors): { lines: string[]; city?: string; postcode: string } | undefined {
  const line1 = validateAddressLine(str(body.line1));
  if (!line1.ok) errors.add('line1', line1.message);
  const pc = validatePostcode(str(body.postcode));
  if (!pc.ok) errors.add('postcode', pc.message);
  if (!line1.ok || !pc.ok) return undefined;
  const line2 = str(body.line2).trim();
  const city = str(body.city).trim();
  return { lines: [line1.value, ...(line2 ? [line2] : [])], ...(city ? { city } : {}), postcode: pc.value };
}

export function validateRecordChange(field: RecordField, body: Body, today = new Date()): Validated<DemographicsChange> {
  const errors = new FormErrors();
  const keep = (names: string[]): Hidden[] => names.map((n) => ({ name: n, value: str(body[n]) }));
  const change = `/services/national-record/change/${field}`;
  const values = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, str(v)]));
  if (field === 'mobile' || field === 'email') {
    const r = field === 'mobile' ? validateUkMobile(str(body.value)) : validateEmail(str(body.value));
    if (!r.ok) return { errors: errors.add('value', r.message), rows: [], hidden: [], values };
    return { errors, change: { kind: field, value: r.value }, rows: [row(RECORD_FIELDS[field].label, r.value, change)], hidden: [{ name: 'value', value: r.value }], values };
  }
  if (field === 'remove-temporary-address') return { errors, change: { kind: 'remove-temporary-address' }, rows: [row('Temporary address', 'Remove')], hidden: [], values };
  if (field === 'remove-emergency-contact') return { errors, change: { kind: 'emergency-contact', contact: null }, rows: [row('Emergency contact', 'Remove')], hidden: [], values };
  if (field === 'nominated-pharmacy') {
    const r = validatePharmacyCode(str(body.pharmacy));
    if (!r.ok) return { errors: errors.add('pharmacy', r.message), rows: [], hidden: [], values };
    return { errors, change: { kind: 'nominated-pharmacy', odsCode: r.value }, rows: [row('Nominated pharmacy', r.value, change)], hidden: [{ name: 'pharmacy', value: r.value }], values };
  }
  if (field === 'emergency-contact') {
    const { name, relationship, phone } = validateEmergencyContact({ name: str(body.contactName), relationship: str(body.contactRelationship), phone: str(body.contactPhone) });
    if (!name.ok) errors.add('contactName', name.message);
    if (!relationship.ok) errors.add('contactRelationship', relationship.message);
    if (!phone.ok) errors.add('contactPhone', phone.message);
    if (!name.ok || !relationship.ok || !phone.ok) return { errors, rows: [], hidden: [], values };
    const contact = { name: name.value, relationship: relationship.value, phone: phone.value };
    return {
      errors, change: { kind: 'emergency-contact', contact }, values,
      rows: [row('Name', contact.name, change), row('Relationship to you', contact.relationship, change), row('Phone number', contact.phone, change)],
      hidden: [{ name: 'contactName', value: contact.name }, { name: 'contactRelationship', value: contact.relationship }, { name: 'contactPhone', value: contact.phone }],
    };
  }
  if (field === 'language') {
    // A tampered form can send any code: only the list's languages are accepted.
    const chosen = LANGUAGES.find((l) => l.code === str(body.language));
    if (!chosen) return { errors: errors.add('language', str(body.language) ? 'Select a language from the list' : 'Select the language you want the NHS to use with you'), rows: [], hidden: [], values };
    return { errors, change: { kind: 'language', code: chosen.code, display: chosen.display }, rows: [row('Communication language', chosen.display, change)], hidden: [{ name: 'language', value: chosen.code }], values };
  }
  const address = validateAddress(body, errors);
  if (field === 'home-address') {
    const moved = dateFrom(body, 'movedIn');
    let from: string | undefined;
    if (moved.iso) {
      const d = validatePastDate(moved.iso, today);
      if (!d.ok) errors.add('movedIn-day', d.message.replace('Date must', 'The date you moved in must').replace(', like 2020-03-27', ', like 27 3 2020'));
      else from = d.value;
    }
    if (errors.any || !address) return { errors, rows: [], hidden: [], values: { ...values, movedIn: moved.values } };
    return {
      errors, change: { kind: 'home-address', address, ...(from ? { from } : {}) }, values,
      rows: [row('Home address', addressText(address), change), ...(from ? [row('Date you moved in', dateText(from), change)] : [])],
      hidden: keep(['line1', 'line2', 'city', 'postcode', 'movedIn[day]', 'movedIn[month]', 'movedIn[year]']),
    };
  }
  const from = dateFrom(body, 'from');
  const to = dateFrom(body, 'to');
  if (!from.iso) errors.add('from-day', 'Enter the date you start staying at this address');
  else if (!isRealDate(from.iso)) errors.add('from-day', 'The start date must be a real date, like 27 3 2026');
  if (!to.iso) errors.add('to-day', 'Enter the date you stop staying at this address');
  else if (!isRealDate(to.iso)) errors.add('to-day', 'The end date must be a real date, like 27 3 2026');
  else {
    const problem = temporaryStayProblem(isRealDate(from.iso) ? from.iso : undefined, to.iso, today);
    if (problem) errors.add('to-day', problem);
  }
  if (errors.any || !address) return { errors, rows: [], hidden: [], values: { ...values, from: from.values, to: to.values } };
  return {
    errors, change: { kind: 'temporary-address', address, from: from.iso, to: to.iso }, values,
    rows: [row('Temporary address', addressText(address), change), row('From', dateText(from.iso), change), row('To', dateText(to.iso), change)],
    hidden: keep(['line1', 'line2', 'city', 'postcode', 'from[day]', 'from[month]', 'from[year]', 'to[day]', 'to[month]', 'to[year]']),
  };
}

interface OrganForm { decision: OrganDonationDecision; ethnicity?: string; religion?: string }

export function validateOrganDecision(kind: string, body: Body, ref?: { ethnicities: { code: string }[]; religions: { code: string }[] }): Validated<OrganForm> {
  const errors = new FormErrors();
  const values = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, str(v)]));
  const hidden: Hidden[] = [];
  const rows: Row[] = [];
  const back = `/services/organ-donation/record/${kind}`;
  let decision: OrganDonationDecision | undefined;
  if (kind === 'opt-in') {
    const organs = str(body.organs);
    if (organs !== 'all' && organs !== 'some') errors.add('organs', 'Select whether you want to donate all or some organs and tissue');
    const faith = str(body.faith);
    if (!['yes', 'no', 'not-applicable'].includes(faith)) errors.add('faith', 'Select whether NHS staff should speak to your family about your faith or beliefs');
    const choices: Record<string, OrganChoice> = {};
    // A tampered form can name any organ: only the register's codes are accepted.
    for (const key of Object.keys(body).filter((k) => k.startsWith('organ-'))) {
      const code = validateOrganCode(key.slice('organ-'.length));
      const choice = str(body[key]);
      if (!code.ok) { errors.add('organs', code.message); continue; }
      if (!['yes', 'no', 'not-stated'].includes(choice)) { errors.add(`organ-${code.value}`, `Select yes, no or not stated for ${ORGAN_NAMES[code.value]}`); continue; }
      choices[code.value] = choice as OrganChoice;
    }
    if (organs === 'some' && !Object.values(choices).includes('yes')) errors.add('organ-heart', 'Select yes for at least one organ or tissue, or choose to donate all');
    if (!errors.any) {
      decision = { kind: 'opt-in', organs: organs === 'all' ? 'all' : choices, faithDeclaration: faith as FaithDeclaration };
      hidden.push({ name: 'organs', value: organs }, { name: 'faith', value: faith });
      if (organs === 'some') for (const [o, c] of Object.entries(choices)) hidden.push({ name: `organ-${o}`, value: c });
      rows.push(row('Your decision', decisionText(decision), back));
      if (organs === 'some') for (const o of ORGAN_CODES) rows.push(row(ORGAN_NAMES[o], CHOICE_NAMES[choices[o] ?? 'not-stated'], back));
      rows.push(row('Faith and beliefs', FAITH_NAMES[faith as FaithDeclaration], back));
    }
  } else if (kind === 'representative') {
    const name = validateRequired(str(body.repName), "Enter your representative's full name");
    const rel = validateRequired(str(body.repRelationship), 'Enter how your representative is related to you, like friend or sister');
    const contactRaw = str(body.repContact);
    const contact = !contactRaw.trim() ? validateRequired('', "Enter your representative's phone number or email address")
      : contactRaw.includes('@') ? validateEmail(contactRaw) : validateUkMobile(contactRaw);
    if (!name.ok) errors.add('repName', name.message);
    if (!rel.ok) errors.add('repRelationship', rel.message);
    if (!contact.ok) errors.add('repContact', contact.message.replace('Enter a UK mobile', "Enter your representative's UK mobile"));
    if (name.ok && rel.ok && contact.ok) {
      decision = { kind: 'representative', representative: { name: name.value, relationship: rel.value, contact: contact.value } };
      hidden.push({ name: 'repName', value: name.value }, { name: 'repRelationship', value: rel.value }, { name: 'repContact', value: contact.value });
      rows.push(row('Your decision', 'I want to appoint a representative to decide for me', back), row('Representative', name.value, back), row('Relationship', rel.value, back), row('Contact', contact.value, back));
    }
  } else if (kind === 'opt-out') {
    decision = { kind: 'opt-out' };
    rows.push(row('Your decision', decisionText(decision), '/services/organ-donation/decision'));
  } else {
    errors.add('decision', 'Select your decision');
  }
  const pick = (field: 'ethnicity' | 'religion', items?: { code: string }[]) => {
    const v = str(body[field]);
    if (!v) return undefined;
    if (!items || !items.some((i) => i.code === v)) { errors.add(field, `Select your ${field} from the list, or leave it blank`); return undefined; }
    hidden.push({ name: field, value: v });
    return v;
  };
  const ethnicity = pick('ethnicity', ref?.ethnicities);
  const religion = pick('religion', ref?.religions);
  if (errors.any || !decision) return { errors, rows: [], hidden: [], values };
  if (ethnicity) rows.push(row('Ethnicity', ethnicity, back));
  if (religion) rows.push(row('Religion', religion, back));
  return { errors, change: { decision, ...(ethnicity ? { ethnicity } : {}), ...(religion ? { religion } : {}) }, rows, hidden, values };
}

export function validateChannels(body: Body): Validated<{ channels: ContactChannel[]; quietHours: { start: string; end: string } | null }> {
  const errors = new FormErrors();
  const values: Record<string, unknown> = { channels: list(body.channels), quiet: str(body.quiet), start: str(body.start), end: str(body.end) };
  const channels = list(body.channels);
  if (!channels.length) errors.add('channels', 'Select at least one way we can contact you');
  else if (channels.some((c) => !(CONTACT_CHANNELS as readonly string[]).includes(c))) errors.add('channels', 'Select ways to contact you from the list');
  const quiet = str(body.quiet);
  let quietHours: { start: string; end: string } | null = null;
  if (quiet !== 'yes' && quiet !== 'no') errors.add('quiet', 'Select whether you want quiet hours');
  if (quiet === 'yes') {
    const s = validateTime(str(body.start));
    const e = validateTime(str(body.end));
    if (!s.ok) errors.add('start', s.message.replace('Enter a time', 'Enter the start time'));
    if (!e.ok) errors.add('end', e.message.replace('Enter a time', 'Enter the end time'));
    if (s.ok && e.ok) quietHours = { start: s.value, end: e.value };
  }
  if (errors.any) return { errors, rows: [], hidden: [], values };
  const back = '/services/contact-preferences/channels';
  return {
    errors, values, change: { channels: channels as ContactChannel[], quietHours },
    rows: [row('How we contact you', channels.map((c) => CHANNEL_NAMES[c as ContactChannel]).join(', '), back), row('Quiet hours', quietHours ? `${quietHours.start} to ${quietHours.end}` : 'None', back)],
    hidden: [...channels.map((c) => ({ name: 'channels', value: c })), { name: 'quiet', value: quiet }, ...(quietHours ? [{ name: 'start', value: quietHours.start }, { name: 'end', value: quietHours.end }] : [])],
  };
}

/** Registers the national pages inside citizenWeb, so its error pages (sign in, uplift, denied) apply. */
/** What the account page shows from the national record; undefined when the citizen is below P9. */
export interface AccountNationalRecord { unavailable: boolean; address?: string; mobile?: string; email?: string; version?: number }

export async function nationalWeb(app: FastifyInstance, deps: AppDeps, page: Page, services?: NationalServices): Promise<{ accountRecord(req: FastifyRequest): Promise<AccountNationalRecord | undefined> }> {
  const national = services ?? nationalServicesFor(deps);
  const csrf = { preHandler: app.csrfProtection };

  /** Whose record: the form's or query's NHS number (checked by forPatient), else the signed-in citizen's own. */
  const whose = (req: FastifyRequest, level: 'P5' | 'P9'): string => {
    const given = str((req.body as Body | undefined)?.nhsNumber) || str((req.query as Body | undefined)?.nhsNumber);
    return given || req.ctx.requireCitizen(level).nhsNumber || '';
  };
  const unavailable = (reply: FastifyReply, title: string, back: string, what: string) =>
    page(reply, 'national-unavailable.njk', { title, what, back: { href: back } }, 503);
  const base = (reply: FastifyReply, nhsNumber: string) => ({ csrfToken: reply.generateCsrf(), nhsNumber });

  /** The end of a write, the same for every service: confirmation, conflict, refusal or not available. */
  function afterWrite<R extends { version: number }>(reply: FastifyReply, w: WriteResult<R>, o: {
    done: (r: R) => Record<string, unknown>; conflict: (current: R) => Record<string, unknown>; back: string;
  }) {
    switch (w.status) {
      case 'done': return page(reply, 'national-done.njk', { ...o.done(w.record), version: w.record.version });
      case 'conflict': return page(reply, 'national-conflict.njk', { title: 'Your details were changed by someone else', ...o.conflict(w.current), version: w.current.version, requestId: newRequestId() }, 409);
      case 'refused': return page(reply, 'problem.njk', { title: 'Your change was not accepted', message: `${w.message}${w.whoCanChange ? ` Ask ${w.whoCanChange} to change it.` : ''}`, action: { text: 'Go back', href: o.back } }, 400);
      case 'unavailable': return page(reply, 'national-unavailable.njk', { title: 'Your change was not saved', what: 'The service that keeps this information is not available right now, so nothing was changed. Try again later.', back: { href: o.back } }, 503);
      case 'unknown': return page(reply, 'national-unavailable.njk', { title: 'We could not confirm your change yet', what: 'The service that keeps this information did not answer in time. We will not send your change twice. Check again in a few minutes.', back: { href: o.back } }, 503);
    }
  }

  // ---------- your details on the national record (P9) ----------

  app.get('/services/national-record', async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.record);
    // The page a citizen checks their details on shows the agency's latest: their GP practice (or their GP system,
    // for a nominated pharmacy) may have changed them since a copy was kept.
    const r = await national.record(req.ctx, nhs, { fresh: true });
    const restricted = (Object.keys(WHO_CAN_CHANGE) as RestrictedField[]).map(whoCanChange);
    const gpPractice = r.ok && r.value.gpOdsCode ? deps.catalog.practice(r.value.gpOdsCode) : undefined;
    return page(reply, 'national-record.njk', { title: 'Your details on the national record', back: { href: '/' }, record: r.ok ? r.value : undefined, unavailable: !r.ok, restricted, nhsNumber: nhs, gpPractice, addressText, temporaryAddressText, emergencyContactText, languageText });
  });

  app.get<{ Params: { field: string } }>('/services/national-record/change/:field', async (req, reply) => {
    const field = req.params.field;
    const nhs = whose(req, NATIONAL_LEVELS.record);
    if (!isRecordField(field)) return cannotChange(req, reply, field, nhs);
    // A change starts from the agency's latest version, not a copy kept from the last few seconds.
    const r = await national.record(req.ctx, nhs, { fresh: true });
    if (!r.ok) return unavailable(reply, RECORD_FIELDS[field].title, '/services/national-record', 'Your details on the national record are not available right now. Try again later.');
    const rec = r.value;
    if (REMOVES[field]) {
      const seen = fieldSeen(rec, field);
      if (!seen) return reply.redirect('/services/national-record', 303);
      return page(reply, 'national-check.njk', removalCheck(field, seen, rec.version, nhs, reply));
    }
    const contact = rec.emergencyContact;
    const values: Record<string, unknown> = field === 'home-address' ? { line1: rec.homeAddress?.lines[0], line2: rec.homeAddress?.lines[1], city: rec.homeAddress?.city, postcode: rec.homeAddress?.postcode }
      : field === 'mobile' ? { value: rec.mobile } : field === 'email' ? { value: rec.email }
      : field === 'nominated-pharmacy' ? { pharmacy: rec.nominatedPharmacyOdsCode }
      : field === 'emergency-contact' ? { contactName: contact?.name, contactRelationship: contact?.relationship, contactPhone: contact?.phone }
      : field === 'language' ? { language: rec.language?.code } : {};
    return page(reply, 'national-record-form.njk', { title: RECORD_FIELDS[field].title, field, values, version: rec.version, seen: fieldSeen(rec, field), back: { href: '/services/national-record' }, languages: LANGUAGE_ITEMS, ...base(reply, nhs) });
  });

  /** A removal's check page: what goes, and a warning button that sends it. */
  function removalCheck(field: RecordField, seen: string, version: number, nhs: string, reply: FastifyReply) {
    const { label, title } = RECORD_FIELDS[field];
    return {
      title: 'Check your answers', heading: title, rows: [row(label, seen)], hidden: [{ name: 'seen', value: seen }], action: `/services/national-record/change/${field}`,
      version, requestId: newRequestId(), submitText: `Remove ${label.toLowerCase()}`, destructive: true, back: { href: '/services/national-record' }, ...base(reply, nhs),
    };
  }

  function cannotChange(req: FastifyRequest, reply: FastifyReply, field: string, nhs: string) {
    const restricted = RESTRICTED_NAMES[field];
    req.log.info({ field: restricted ?? 'unknown' }, 'national record change outside the allowed fields');
    if (!restricted) return page(reply, 'not-found.njk', { title: 'Page not found' }, 404);
    void nhs;
    const message = restricted === 'nhsNumber'
      ? `${whoCanChange(restricted)} Nothing was sent.`
      : `Only ${WHO_CAN_CHANGE[restricted]} can change your ${RESTRICTED_LABELS[restricted]} on the national record. Nothing was sent.`;
    return page(reply, 'problem.njk', { title: `You cannot change your ${RESTRICTED_LABELS[restricted]} here`, message, action: { text: 'Back to your details', href: '/services/national-record' } }, 403);
  }

  app.post<{ Params: { field: string }; Body: Body }>('/services/national-record/change/:field', csrf, async (req, reply) => {
    const field = req.params.field;
    const nhs = whose(req, NATIONAL_LEVELS.record);
    // The access check comes first, so another person's NHS number is denied even with bad answers.
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.record, 'change-national-record');
    if (!isRecordField(field)) return cannotChange(req, reply, field, nhs);
    const body = req.body ?? {};
    const version = Number(str(body.version));
    if (REMOVES[field] && !Number.isInteger(version)) return page(reply, 'problem.njk', { title: 'This form has expired', message: 'Go back to your details and start again. Nothing was sent.', action: { text: 'Back to your details', href: '/services/national-record' } }, 400);
    const v = validateRecordChange(field, body);
    if (v.errors.any || !v.change || !Number.isInteger(version)) {
      return page(reply, 'national-record-form.njk', { title: RECORD_FIELDS[field].title, field, values: v.values, version: str(body.version), seen: str(body.seen), back: { href: '/services/national-record' }, languages: LANGUAGE_ITEMS, ...base(reply, nhs), ...v.errors.toView() }, 400);
    }
    const action = `/services/national-record/change/${field}`;
    const requestId = str(body.requestId);
    if (!requestId && REMOVES[field]) return page(reply, 'national-check.njk', removalCheck(field, str(body.seen), version, nhs, reply));
    if (!requestId) {
      return page(reply, 'national-check.njk', { title: 'Check your answers', heading: 'Check your answers before changing your details', rows: v.rows, hidden: [...v.hidden, { name: 'seen', value: str(body.seen) }], action, version, requestId: newRequestId(), submitText: 'Change my details', back: { href: action }, ...base(reply, nhs) });
    }
    const w = await national.changeRecord(req.ctx, nhs, v.change, version, requestId);
    return afterWrite(reply, w, {
      back: '/services/national-record',
      done: (rec) => ({
        title: 'Your details have been updated', panelText: `${RECORD_FIELDS[field].label} ${REMOVES[field] ? 'removed from' : 'changed on'} the national record`,
        rows: REMOVES[field] ? [] : [row(RECORD_FIELDS[field].label, fieldSeen(rec, field))], next: { href: '/services/national-record', text: 'Back to your details' },
      }),
      conflict: (cur) => ({
        changed: [row(`${RECORD_FIELDS[field].label} when you started`, str(body.seen)), row(`${RECORD_FIELDS[field].label} on the record now`, fieldSeen(cur, field))],
        rows: v.rows, hidden: [...v.hidden, { name: 'seen', value: fieldSeen(cur, field) }], action, ...base(reply, nhs),
      }),
    });
  });

  // ---------- organ donation decision (P5) ----------

  const OD = '/services/organ-donation';

  app.get(OD, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    const r = await national.organDonation(req.ctx, nhs).catch(notFoundAsEmpty(nhs));
    return page(reply, 'organ-donation.njk', { title: 'Your organ donation decision', back: { href: '/' }, record: r.ok ? r.value : undefined, unavailable: !r.ok, decision: r.ok ? decisionText(r.value.decision) : '', ...base(reply, nhs) });
  });

  function notFoundAsEmpty(nhs: string) {
    return (err: unknown): ReadResult<OrganDonationRecord> => {
      if ((err as { code?: string }).code === 'not-found') return { ok: true, value: { nhsNumber: nhs, version: 0, decision: null } };
      throw err;
    };
  }

  app.get(`${OD}/decision`, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.organDonation, 'record-organ-donation');
    return page(reply, 'organ-donation-decision.njk', { title: 'What is your organ donation decision?', back: { href: OD }, values: {}, ...base(reply, nhs) });
  });

  app.post<{ Body: Body }>(`${OD}/decision`, csrf, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.organDonation, 'record-organ-donation');
    const d = str(req.body?.decision);
    if (!['opt-in', 'opt-out', 'representative'].includes(d)) {
      return page(reply, 'organ-donation-decision.njk', { title: 'What is your organ donation decision?', back: { href: OD }, values: {}, ...base(reply, nhs), ...new FormErrors().add('decision', 'Select your organ donation decision').toView() }, 400);
    }
    return reply.redirect(`${OD}/record/${d}`, 303);
  });

  async function organForm(req: FastifyRequest, reply: FastifyReply, kind: string, nhs: string, values: Record<string, unknown>, extra: Record<string, unknown> = {}, status = 200) {
    const [cur, ref] = await Promise.all([national.organDonation(req.ctx, nhs).catch(notFoundAsEmpty(nhs)), national.organDonationReferenceData()]);
    if (!cur.ok) return unavailable(reply, 'Your organ donation decision', OD, 'The NHS Organ Donor Register is not available right now. Try again later.');
    return page(reply, 'organ-donation-form.njk', {
      title: kind === 'opt-in' ? 'Which organs and tissue do you want to donate?' : kind === 'representative' ? 'Who is your representative?' : 'Record that you do not want to donate',
      kind, values, version: cur.value.version, organs: ORGAN_CODES.map((o) => ({ code: o, name: ORGAN_NAMES[o] })),
      reference: ref.ok ? ref.value : undefined, back: { href: `${OD}/decision` }, ...base(reply, nhs), ...extra,
    }, status);
  }

  app.get<{ Params: { kind: string } }>(`${OD}/record/:kind`, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    if (!['opt-in', 'opt-out', 'representative'].includes(req.params.kind)) return page(reply, 'not-found.njk', { title: 'Page not found' }, 404);
    return organForm(req, reply, req.params.kind, nhs, {});
  });

  app.post<{ Params: { kind: string }; Body: Body }>(`${OD}/record/:kind`, csrf, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.organDonation, 'record-organ-donation');
    const kind = req.params.kind;
    if (!['opt-in', 'opt-out', 'representative'].includes(kind)) return page(reply, 'not-found.njk', { title: 'Page not found' }, 404);
    const body = req.body ?? {};
    const ref = await national.organDonationReferenceData();
    const v = validateOrganDecision(kind, body, ref.ok ? ref.value : undefined);
    const version = Number(str(body.version));
    if (v.errors.any || !v.change || !Number.isInteger(version)) return organForm(req, reply, kind, nhs, v.values, v.errors.toView(), 400);
    const requestId = str(body.requestId);
    const action = `${OD}/record/${kind}`;
    if (!requestId) {
      return page(reply, 'national-check.njk', { title: 'Check your answers', heading: 'Check your organ donation decision', rows: v.rows, hidden: v.hidden, action, version, requestId: newRequestId(), submitText: 'Record my decision', back: { href: action }, ...base(reply, nhs) });
    }
    const w = await national.changeOrganDonation(req.ctx, nhs, { action: 'record', ...v.change, expectedVersion: version, requestId });
    return afterWrite(reply, w, {
      back: OD,
      done: (rec) => ({ title: 'Your decision has been recorded', panelText: 'Your organ donation decision is on the NHS Organ Donor Register', rows: [row('Your decision', decisionText(rec.decision))], next: { href: OD, text: 'Back to your organ donation decision' }, tellFamily: true }),
      conflict: (cur) => ({ changed: [row('The register now holds', decisionText(cur.decision))], rows: v.rows, hidden: v.hidden, action, ...base(reply, nhs) }),
    });
  });

  app.get(`${OD}/reaffirm`, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    const r = await national.organDonation(req.ctx, nhs).catch(notFoundAsEmpty(nhs));
    if (!r.ok) return unavailable(reply, 'Confirm your decision', OD, 'The NHS Organ Donor Register is not available right now. Try again later.');
    if (!r.value.decision) return reply.redirect(OD, 303);
    return page(reply, 'national-check.njk', { title: 'Confirm your decision is still the same', heading: 'Confirm your decision is still the same', rows: [row('Your decision', decisionText(r.value.decision))], hidden: [], action: `${OD}/reaffirm`, version: r.value.version, requestId: newRequestId(), submitText: 'Confirm my decision', back: { href: OD }, ...base(reply, nhs) });
  });

  app.post<{ Body: Body }>(`${OD}/reaffirm`, csrf, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    const w = await national.changeOrganDonation(req.ctx, nhs, { action: 'reaffirm', expectedVersion: Number(str(req.body?.version)), requestId: str(req.body?.requestId) });
    return afterWrite(reply, w, {
      back: OD,
      done: (rec) => ({ title: 'Your decision has been confirmed', panelText: 'Your organ donation decision is unchanged and confirmed today', rows: [row('Your decision', decisionText(rec.decision))], next: { href: OD, text: 'Back to your organ donation decision' } }),
      conflict: (cur) => ({ changed: [row('The register now holds', decisionText(cur.decision))], rows: [row('Your decision', decisionText(cur.decision))], hidden: [], action: `${OD}/reaffirm`, ...base(reply, nhs) }),
    });
  });

  const withdrawForm = async (req: FastifyRequest, reply: FastifyReply, nhs: string, values: Record<string, unknown>, extra: Record<string, unknown> = {}, status = 200) => {
    const r = await national.organDonation(req.ctx, nhs).catch(notFoundAsEmpty(nhs));
    if (!r.ok) return unavailable(reply, 'Withdraw your decision', OD, 'The NHS Organ Donor Register is not available right now. Try again later.');
    if (!r.value.decision) return reply.redirect(OD, 303);
    return page(reply, 'organ-donation-withdraw.njk', { title: 'Withdraw your organ donation decision', values, version: r.value.version, decision: decisionText(r.value.decision), back: { href: OD }, ...base(reply, nhs), ...extra }, status);
  };

  app.get(`${OD}/withdraw`, async (req, reply) => withdrawForm(req, reply, whose(req, NATIONAL_LEVELS.organDonation), {}));

  app.post<{ Body: Body }>(`${OD}/withdraw`, csrf, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.organDonation, 'withdraw-organ-donation');
    const body = req.body ?? {};
    const reason = validateRequired(str(body.reason), 'Enter why you are withdrawing your decision');
    const version = Number(str(body.version));
    if (!reason.ok || !Number.isInteger(version)) return withdrawForm(req, reply, nhs, { reason: str(body.reason) }, new FormErrors().add('reason', reason.ok ? 'This form has expired: start again' : reason.message).toView(), 400);
    const requestId = str(body.requestId);
    const rows = [row('What happens', 'Your decision is removed from the register: you will have no recorded decision'), row('Your reason', reason.value, `${OD}/withdraw`)];
    if (!requestId) {
      return page(reply, 'national-check.njk', { title: 'Check your answers', heading: 'Check before you withdraw your decision', rows, hidden: [{ name: 'reason', value: reason.value }], action: `${OD}/withdraw`, version, requestId: newRequestId(), submitText: 'Withdraw my decision', back: { href: `${OD}/withdraw` }, ...base(reply, nhs), warning: true });
    }
    const w = await national.changeOrganDonation(req.ctx, nhs, { action: 'withdraw', reason: reason.value, expectedVersion: version, requestId });
    return afterWrite(reply, w, {
      back: OD,
      done: () => ({ title: 'Your decision has been withdrawn', panelText: 'You now have no organ donation decision on the register', rows: [row('Your decision', decisionText(null))], next: { href: OD, text: 'Back to your organ donation decision' }, withdrawn: true }),
      conflict: (cur) => ({ changed: [row('The register now holds', decisionText(cur.decision))], rows, hidden: [{ name: 'reason', value: reason.value }], action: `${OD}/withdraw`, ...base(reply, nhs) }),
    });
  });

  app.get(`${OD}/history`, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.organDonation);
    const h = await national.organDonationHistory(req.ctx, nhs).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'not-found') return { ok: true as const, value: [] };
      throw err;
    });
    const rows = h.ok ? [...h.value].reverse().map((e) => [{ text: String(e.version) }, { text: HISTORY_ACTIONS[e.action] ?? e.action }, { text: dateTimeText(e.at) }, { text: `${decisionText(e.decision)}${e.withdrawalReason ? ` (reason: ${e.withdrawalReason})` : ''}` }]) : [];
    return page(reply, 'national-history.njk', { title: 'Your organ donation history', head: ['Version', 'What happened', 'When', 'Decision'], rows, unavailable: !h.ok, back: { href: OD } });
  });

  // ---------- contact preferences and the national data opt-out (P5) ----------

  const CP = '/services/contact-preferences';

  const prefsSummary = (p: ContactPreferences) => ({
    channels: p.channels.map((c) => CHANNEL_NAMES[c]).join(', ') || 'None chosen',
    quiet: p.quietHours ? `${p.quietHours.start} to ${p.quietHours.end}` : 'None',
    optOut: p.dataOptOut.optedOut ? 'Opted out: your data is not used for research and planning' : 'Not opted out: your data can be used for research and planning',
  });

  app.get(CP, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.contactPreferences);
    const r = await national.contactPreferences(req.ctx, nhs);
    return page(reply, 'contact-preferences.njk', { title: 'Contact preferences and data opt-out', back: { href: '/' }, prefs: r.ok ? r.value : undefined, summary: r.ok ? prefsSummary(r.value) : undefined, unavailable: !r.ok, ...base(reply, nhs) });
  });

  const channelsForm = async (req: FastifyRequest, reply: FastifyReply, nhs: string, values: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}, status = 200) => {
    const r = await national.contactPreferences(req.ctx, nhs);
    if (!r.ok) return unavailable(reply, 'How we contact you', CP, 'Your contact preferences are not available right now. Try again later.');
    const v = values ?? { channels: r.value.channels, quiet: r.value.quietHours ? 'yes' : 'no', start: r.value.quietHours?.start, end: r.value.quietHours?.end };
    return page(reply, 'contact-preferences-channels.njk', { title: 'How do you want us to contact you?', values: v, version: r.value.version, channelItems: CONTACT_CHANNELS.map((c) => ({ value: c, text: CHANNEL_NAMES[c], checked: (v.channels as string[] | undefined)?.includes(c) })), back: { href: CP }, ...base(reply, nhs), ...extra }, status);
  };

  app.get(`${CP}/channels`, async (req, reply) => channelsForm(req, reply, whose(req, NATIONAL_LEVELS.contactPreferences), undefined));

  app.post<{ Body: Body }>(`${CP}/channels`, csrf, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.contactPreferences);
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.contactPreferences, 'set-preferences');
    const body = req.body ?? {};
    const v = validateChannels(body);
    const version = Number(str(body.version));
    if (v.errors.any || !v.change || !Number.isInteger(version)) return channelsForm(req, reply, nhs, v.values, v.errors.toView(), 400);
    const requestId = str(body.requestId);
    if (!requestId) {
      return page(reply, 'national-check.njk', { title: 'Check your answers', heading: 'Check how we will contact you', rows: v.rows, hidden: v.hidden, action: `${CP}/channels`, version, requestId: newRequestId(), submitText: 'Save my preferences', back: { href: `${CP}/channels` }, ...base(reply, nhs) });
    }
    const w = await national.changeContactPreferences(req.ctx, nhs, { action: 'set-preferences', ...v.change, expectedVersion: version, requestId });
    return afterWrite(reply, w, {
      back: CP,
      done: (p) => ({ title: 'Your contact preferences have been saved', panelText: `We will contact you by: ${prefsSummary(p).channels}`, rows: [row('Quiet hours', prefsSummary(p).quiet)], next: { href: CP, text: 'Back to your contact preferences' } }),
      conflict: (cur) => ({ changed: [row('Your preferences now', `${prefsSummary(cur).channels}; quiet hours ${prefsSummary(cur).quiet}`)], rows: v.rows, hidden: v.hidden, action: `${CP}/channels`, ...base(reply, nhs) }),
    });
  });

  const optOutForm = async (req: FastifyRequest, reply: FastifyReply, nhs: string, values: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}, status = 200) => {
    const r = await national.contactPreferences(req.ctx, nhs);
    if (!r.ok) return unavailable(reply, 'National data opt-out', CP, 'Your national data opt-out choice is not available right now. Try again later.');
    return page(reply, 'data-opt-out.njk', { title: 'Choose if your data is used for research and planning', values: values ?? { optedOut: r.value.dataOptOut.optedOut ? 'yes' : 'no' }, version: r.value.version, back: { href: CP }, ...base(reply, nhs), ...extra }, status);
  };

  app.get(`${CP}/data-opt-out`, async (req, reply) => optOutForm(req, reply, whose(req, NATIONAL_LEVELS.contactPreferences), undefined));

  app.post<{ Body: Body }>(`${CP}/data-opt-out`, csrf, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.contactPreferences);
    await req.ctx.forPatient(nhs, NATIONAL_LEVELS.contactPreferences, 'set-data-opt-out');
    const body = req.body ?? {};
    const choice = str(body.optedOut);
    const version = Number(str(body.version));
    if ((choice !== 'yes' && choice !== 'no') || !Number.isInteger(version)) {
      return optOutForm(req, reply, nhs, { optedOut: choice }, new FormErrors().add('optedOut', 'Select whether your data can be used for research and planning').toView(), 400);
    }
    const label = choice === 'yes' ? 'Opt out: do not use my data for research and planning' : 'Do not opt out: my data can be used for research and planning';
    const rows = [row('Your choice', label, `${CP}/data-opt-out`)];
    const requestId = str(body.requestId);
    if (!requestId) {
      return page(reply, 'national-check.njk', { title: 'Check your answers', heading: 'Check your national data opt-out choice', rows, hidden: [{ name: 'optedOut', value: choice }], action: `${CP}/data-opt-out`, version, requestId: newRequestId(), submitText: 'Save my choice', back: { href: `${CP}/data-opt-out` }, ...base(reply, nhs) });
    }
    const w = await national.changeContactPreferences(req.ctx, nhs, { action: 'set-data-opt-out', optedOut: choice === 'yes', expectedVersion: version, requestId });
    return afterWrite(reply, w, {
      back: CP,
      done: (p) => ({ title: 'Your choice has been saved', panelText: prefsSummary(p).optOut, rows: [], next: { href: CP, text: 'Back to your contact preferences' } }),
      conflict: (cur) => ({ changed: [row('Your choice now', prefsSummary(cur).optOut)], rows, hidden: [{ name: 'optedOut', value: choice }], action: `${CP}/data-opt-out`, ...base(reply, nhs) }),
    });
  });

  app.get(`${CP}/history`, async (req, reply) => {
    const nhs = whose(req, NATIONAL_LEVELS.contactPreferences);
    const h = await national.contactPreferencesHistory(req.ctx, nhs);
    const rows = h.ok ? [...h.value].reverse().map((e) => [{ text: String(e.version) }, { text: e.kind === 'data-opt-out' ? 'National data opt-out' : 'Contact preferences' }, { text: dateTimeText(e.at) },
      { text: e.kind === 'data-opt-out' ? (e.optedOut ? 'Opted out' : 'Not opted out') : `${(e.channels ?? []).map((c) => CHANNEL_NAMES[c]).join(', ')}; quiet hours ${e.quietHours ? `${e.quietHours.start} to ${e.quietHours.end}` : 'none'}` }]) : [];
    return page(reply, 'national-history.njk', { title: 'Your contact preferences history', head: ['Version', 'What changed', 'When', 'Choice'], rows, unavailable: !h.ok, back: { href: CP } });
  });

  return {
    async accountRecord(req) {
      const me = req.ctx.requireCitizen();
      if (me.identityLevel !== NATIONAL_LEVELS.record || !me.nhsNumber) return undefined;
      const r = await national.record(req.ctx, me.nhsNumber).catch(() => ({ ok: false as const }));
      if (!r.ok) return { unavailable: true };
      return { unavailable: false, address: addressText(r.value.homeAddress), mobile: r.value.mobile, email: r.value.email, version: r.value.version };
    },
  };
}

