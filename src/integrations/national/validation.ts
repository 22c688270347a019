// Pure checks the web pages and the API run on citizen input before anything is sent to a national agency (or, for a pharmacy
// code, a GP system). Each returns a ValidationResult whose message is written to be shown with the NHS error pattern.

export type ValidationResult = { ok: true; value: string } | { ok: false; message: string };

const ok = (value: string): ValidationResult => ({ ok: true, value });
const fail = (message: string): ValidationResult => ({ ok: false, message });

/** NHS number: 10 digits (spaces allowed as typed), check digit by modulus 11. */
export function validateNhsNumber(input: string): ValidationResult {
  const digits = input.replace(/\s+/g, '');
  if (!digits) return fail('Enter an NHS number');
  if (!/^\d{10}$/.test(digits)) return fail('NHS number must be 10 digits, like 485 777 3456');
  return isValidNhsNumber(digits) ? ok(digits) : fail('Enter a valid NHS number: this one is not a real NHS number');
}

export function isValidNhsNumber(digits: string): boolean {
  if (!/^\d{10}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(digits[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return false;
  return (check === 11 ? 0 : check) === Number(digits[9]);
}

// The UK postcode format (outward code, space, inward code), including the special GIR 0AA.
const POSTCODE = /^(GIR ?0AA|[A-PR-UWYZ](\d[A-HJKPSTUW]?|\d\d|[A-HK-Y]\d[ABEHMNPRVWXY]?|[A-HK-Y]\d\d) ?\d[ABD-HJLNP-UW-Z]{2})$/;

/** UK postcode: returns it normalised to upper case with one space before the inward code. */
export function validatePostcode(input: string): ValidationResult {
  const compact = input.trim().toUpperCase().replace(/\s+/g, '');
  if (!compact) return fail('Enter a postcode');
  if (!POSTCODE.test(compact)) return fail('Enter a real postcode, like AA1 1AA');
  return ok(`${compact.slice(0, -3)} ${compact.slice(-3)}`);
}

/** Email: one @, a dotted domain, no spaces; deliberately not the full RFC grammar. */
export function validateEmail(input: string): ValidationResult {
  const value = input.trim();
  if (!value) return fail('Enter an email address');
  if (value.length > 254 || !/^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/.test(value) || value.includes('..')) {
    return fail('Enter an email address in the correct format, like name@example.com');
  }
  return ok(value);
}

/** UK mobile: 07xxx xxxxxx, also +44 7… or 0044 7…; returned as 07 followed by 9 digits. */
export function validateUkMobile(input: string): ValidationResult {
  const national = ukNationalNumber(input);
  if (!national) return fail('Enter a mobile phone number');
  if (!/^07\d{9}$/.test(national)) return fail('Enter a UK mobile phone number, like 07700 900 982');
  return ok(national);
}

/** A phone number as typed (spaces, brackets, dashes, +44 or 0044) as its national digits, starting 0. */
function ukNationalNumber(input: string): string {
  return input.trim().replace(/[\s()-]/g, '').replace(/^(\+44|0044)/, '0');
}

/**
 * UK phone number, landline or mobile (01, 02, 03 or 07 and 9 more digits, or 01 and 8 for a few old areas),
 * also given as +44 or 0044; returned as the national number's digits.
 */
export function validateUkPhone(input: string): ValidationResult {
  const national = ukNationalNumber(input);
  if (!national) return fail('Enter a phone number');
  if (!/^0(1\d{8,9}|[237]\d{9})$/.test(national)) return fail('Enter a UK phone number, like 01632 960 001 or 07700 900 982');
  return ok(national);
}

/** A pharmacy's ODS code: F and four letters or digits, as typed with any case and spaces. */
export function validatePharmacyCode(input: string): ValidationResult {
  const code = input.toUpperCase().replace(/\s+/g, '');
  if (!code) return fail('Enter the pharmacy code');
  return /^F[A-Z0-9]{4}$/.test(code) ? ok(code) : fail('Enter a pharmacy code in the right format, like FA123');
}

/** Whether YYYY-MM-DD names a day the calendar has (not 2026-02-30). */
export function isRealDate(iso: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

/**
 * A temporary address's stay, given as real dates (the start undefined when it is not one): it must not have
 * ended, and lasts at most 90 days (the agency's rule). Returns what is wrong with the end date, or undefined.
 */
export function temporaryStayProblem(from: string | undefined, to: string, today: Date = new Date()): string | undefined {
  if (to < today.toISOString().slice(0, 10)) return 'The end date must be today or in the future';
  if (from === undefined) return undefined;
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  if (days < 0) return 'The end date must be the same as or after the start date';
  if (days > 90) return 'A temporary address can be for 90 days at most: choose an end date 90 days or less after the start date';
  return undefined;
}

/** A calendar date (YYYY-MM-DD) that must not be in the future, e.g. a date of birth or a move-in date. */
export function validatePastDate(input: string, today: Date = new Date()): ValidationResult {
  const value = input.trim();
  if (!value) return fail('Enter a date');
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return fail('Date must be a real date, like 2020-03-27');
  if (!isRealDate(value)) return fail('Date must be a real date, like 2020-03-27');
  const todayIso = today.toISOString().slice(0, 10);
  if (value > todayIso) return fail('Date must be today or in the past');
  return ok(value);
}

/** The organs a donation decision can name, in the register's order. */
export const ORGAN_CODES = ['heart', 'lungs', 'kidneys', 'liver', 'corneas', 'pancreas', 'tissue', 'small-bowel'] as const;
export type OrganCode = (typeof ORGAN_CODES)[number];

export function isOrganCode(value: string): value is OrganCode {
  return (ORGAN_CODES as readonly string[]).includes(value);
}

export function validateOrganCode(input: string): ValidationResult {
  const value = input.trim().toLowerCase();
  return isOrganCode(value) ? ok(value) : fail(`"${input}" is not an organ you can choose; choose from ${ORGAN_CODES.join(', ')}`);
}

/** A required answer: not empty after trimming. */
export function validateRequired(input: string | undefined, message: string): ValidationResult {
  const value = (input ?? '').trim();
  return value ? ok(value) : fail(message);
}

/** An address's first line, which every address needs. */
export function validateAddressLine(input: string): ValidationResult {
  return validateRequired(input, 'Enter the first line of the address, like 10 High Street');
}

/** An emergency contact's three answers, each checked; every message says it is about the contact. */
export function validateEmergencyContact(c: { name: string; relationship: string; phone: string }): Record<'name' | 'relationship' | 'phone', ValidationResult> {
  const phone = validateUkPhone(c.phone);
  return {
    name: validateRequired(c.name, 'Enter the full name of your emergency contact'),
    relationship: validateRequired(c.relationship, 'Enter how your emergency contact is related to you, like partner or friend'),
    phone: phone.ok ? phone : fail(phone.message.replace('Enter a phone number', 'Enter a phone number for your emergency contact')),
  };
}

/** Quiet-hours times as 24-hour HH:MM. */
export function validateTime(input: string): ValidationResult {
  const value = input.trim();
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(value) ? ok(value) : fail('Enter a time in 24-hour format, like 21:30');
}
