import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCsv } from './csv.ts';

describe('parseCsv', () => {
  it('reads quoted fields with embedded commas, doubled quotes and empty fields', () => {
    const recs = parseCsv('"A81012","7 TRINITY MEWS,N. ORMESBY","",x\n"say ""hi""",,\n');
    assert.deepEqual(recs.map((r) => r.fields), [
      ['A81012', '7 TRINITY MEWS,N. ORMESBY', '', 'x'],
      ['say "hi"', '', ''],
    ]);
    assert.deepEqual(recs.map((r) => r.line), [1, 2]);
    assert.ok(recs.every((r) => r.error === undefined));
  });

  it('numbers records by the line they start on, across CRLF, blank lines and line breaks inside quotes', () => {
    const recs = parseCsv('\uFEFFa,b\r\n\r\n"multi\r\nline",c\r\nlast,"x"');
    assert.deepEqual(recs.map((r) => [r.line, r.fields]), [
      [1, ['a', 'b']],
      [3, ['multi\r\nline', 'c']],
      [5, ['last', 'x']],
    ]);
  });

  it('marks an unterminated quote and text after a closing quote as errors', () => {
    const [ok, stray, open] = parseCsv('a,b\n"x"y,z\n"never closed,1\n2\n');
    assert.equal(ok.error, undefined);
    assert.equal(stray.error, 'unexpected text after a closing quote');
    assert.deepEqual(stray.fields, ['xy', 'z']);
    assert.equal(open.line, 3);
    assert.equal(open.error, 'unterminated quoted field');
  });

  it('returns nothing for an empty text', () => {
    assert.deepEqual(parseCsv(''), []);
    assert.deepEqual(parseCsv('\n\n'), []);
  });
});
