// Single sign-on into a supplier's web integration: a short-lived signed statement of who the citizen is
// (assertedLoginIdentity), made with jose and the platform's own hand-off key (not the key it signs in with),
// whose public half suppliers fetch from /.well-known/handoff-jwks.json to verify it.
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';
import type { IdentityLevel } from './provider/accounts.ts';
import { privateSigningJwk, publicJwk } from './keys.ts';
import type { Store } from '../store/store.ts';

/** Seconds a hand-off token is good for: long enough to follow a redirect, too short to be worth stealing. */
export const HANDOFF_SECONDS = 60;

export class HandoffSigner {
  private constructor(private readonly key: CryptoKey | Uint8Array, private readonly jwk: JWK, private readonly issuer: string) {}

  static async open(db: Store, issuer: string): Promise<HandoffSigner> {
    return HandoffSigner.withKey(await privateSigningJwk(db, 'handoff.signing-key'), issuer);
  }

  /** A signer with the given private key (the stored one, or a test's own). */
  static async withKey(jwk: JWK, issuer: string): Promise<HandoffSigner> {
    return new HandoffSigner(await importJWK(jwk, 'RS256'), jwk, issuer);
  }

  /** The public keys suppliers verify hand-off tokens with. */
  jwks(): { keys: JWK[] } {
    return { keys: [publicJwk(this.jwk)] };
  }

  /** A token for one supplier (its web origin is the audience), naming the citizen and how well they proved it. */
  sign(citizen: { sub: string; identityLevel: IdentityLevel }, audience: string): Promise<string> {
    return new SignJWT({ identity_proofing_level: citizen.identityLevel })
      .setProtectedHeader({ alg: 'RS256', kid: this.jwk.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setSubject(citizen.sub)
      .setIssuedAt()
      .setExpirationTime(`${HANDOFF_SECONDS}s`)
      .setJti(randomUUID())
      .sign(this.key);
  }
}
