// Parses CSV text (RFC 4180: quoted fields, doubled quotes, embedded commas and line breaks) into numbered records.

export interface CsvRecord {
  /** 1-based line on which the record starts, so reports can point at the file as an editor shows it. */
  line: number;
  fields: string[];
  /** Set when the record is malformed; its fields are then only what could be read. */
  error?: string;
}

export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;

  while (i < n) {
    const record: CsvRecord = { line, fields: [] };
    let sawQuote = false;
    for (;;) {
      let field: string;
      if (text[i] === '"') {
        sawQuote = true;
        i++;
        let value = '';
        for (;;) {
          const q = text.indexOf('"', i);
          if (q === -1) {
            // Nothing after an unterminated quote can be trusted, so the rest of the file is this one bad record.
            record.error = 'unterminated quoted field';
            line += lineBreaks(text, i, n);
            i = n;
            break;
          }
          value += text.slice(i, q);
          line += lineBreaks(text, i, q);
          if (text[q + 1] === '"') {
            value += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        field = value;
        if (i < n && !isDelimiter(text[i])) {
          record.error ??= 'unexpected text after a closing quote';
          const end = nextDelimiter(text, i);
          field += text.slice(i, end);
          i = end;
        }
      } else {
        const end = nextDelimiter(text, i);
        field = text.slice(i, end);
        i = end;
      }
      record.fields.push(field);
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    const blank = !sawQuote && record.fields.length === 1 && record.fields[0].trim() === '';
    if (!blank) records.push(record);
  }
  return records;
}

function isDelimiter(c: string): boolean {
  return c === ',' || c === '\n' || c === '\r';
}

function nextDelimiter(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 44 || c === 10 || c === 13) return i;
    i++;
  }
  return i;
}

/** Counts line breaks in text[from, to): CRLF, LF and a lone CR each count once. */
function lineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) count++;
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) count++;
  }
  return count;
}
