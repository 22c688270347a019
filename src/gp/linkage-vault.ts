// Linkage keys are credentials to a person's GP record, so they are kept encrypted at rest: a JWE (direct key,
// A256GCM) made with jose, naming in its protected header the linkage it belongs to, so a key copied onto another
// person's row does not open there. The key comes from LINKAGE_KEY_SECRET (a deployment's secret store); the
// embedded default makes one and keeps it in the settings table.
import { CompactEncrypt, compactDecrypt, base64url } from 'jose';
import { secretKeys } from '../identity/keys.ts';
import type { Store } from '../store/store.ts';

const ALG = 'dir';
const ENC = 'A256GCM';

export class LinkageVault {
  private constructor(private readonly key: Uint8Array) {}

  /** The configured key (32 bytes, base64url), else the one kept in the store for the embedded default. */
  static async open(db: Store, configured?: string): Promise<LinkageVault> {
    const encoded = configured ?? (await secretKeys(db, 'gp.linkage-key'))[0];
    let key: Uint8Array;
    try {
      key = base64url.decode(encoded);
    } catch {
      key = new Uint8Array();
    }
    if (key.length !== 32) throw new Error('LINKAGE_KEY_SECRET must be 32 bytes, base64url encoded');
    return new LinkageVault(key);
  }

  /** Seals a linkage key for one linkage (e.g. nhs|ods|system). */
  seal(linkageKey: string, linkage: string): Promise<string> {
    return new CompactEncrypt(new TextEncoder().encode(linkageKey)).setProtectedHeader({ alg: ALG, enc: ENC, sub: linkage }).encrypt(this.key);
  }

  /** The linkage key, or undefined when the value was not sealed here for this linkage (tampered, moved, or old). */
  async unseal(sealed: string, linkage: string): Promise<string | undefined> {
    try {
      const { plaintext, protectedHeader } = await compactDecrypt(sealed, this.key, { keyManagementAlgorithms: [ALG], contentEncryptionAlgorithms: [ENC] });
      return protectedHeader.sub === linkage ? new TextDecoder().decode(plaintext) : undefined;
    } catch {
      return undefined;
    }
  }
}
