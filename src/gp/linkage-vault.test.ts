// Linkage keys at rest: sealed per linkage, opened only for that linkage and with the same key; the stored row
// never holds the key in clear.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { openStore } from '../store/open.ts';
import { LinkageVault } from './linkage-vault.ts';

describe('LinkageVault', () => {
  it('opens what it sealed for the same linkage only, and refuses tampering or another key', async () => {
    const db = await openStore({});
    try {
      const vault = await LinkageVault.open(db);
      const sealed = await vault.seal('LK-secret-123', '9990079196|A81001|emis');
      assert.doesNotMatch(sealed, /LK-secret-123/);
      assert.equal(await vault.unseal(sealed, '9990079196|A81001|emis'), 'LK-secret-123');
      assert.equal(await vault.unseal(sealed, '9990237573|E83003|emis'), undefined, 'copied onto another person\'s row');
      const parts = sealed.split('.');
      parts[3] = parts[3].slice(0, -2) + (parts[3].endsWith('AA') ? 'BB' : 'AA');
      assert.equal(await vault.unseal(parts.join('.'), '9990079196|A81001|emis'), undefined, 'tampered');
      assert.equal(await vault.unseal('LK-secret-123', '9990079196|A81001|emis'), undefined, 'a key stored in clear');
      // The embedded default keeps its key: a second vault on the same store opens the first one's seals.
      assert.equal(await (await LinkageVault.open(db)).unseal(sealed, '9990079196|A81001|emis'), 'LK-secret-123');
      const other = await LinkageVault.open(db, randomBytes(32).toString('base64url'));
      assert.equal(await other.unseal(sealed, '9990079196|A81001|emis'), undefined, 'another deployment\'s key');
      await assert.rejects(LinkageVault.open(db, 'too-short'), /32 bytes/);
    } finally {
      await db.close();
    }
  });
});
