// Front Door as an OpenID Connect relying party (openid-client): authorization code with PKCE, private_key_jwt
// client authentication, state and nonce checked. Works against the embedded provider or NHS login alike.
import * as oidc from 'openid-client';
import { importJWK, type JWK } from 'jose';
import type { LoginTransaction } from './sessions.ts';
import type { AccountClaims } from './provider/accounts.ts';

export interface RelyingPartyOptions {
  issuer: string;
  clientId: string;
  privateJwk: JWK;
  redirectUri: string;
  postLogoutRedirectUri: string;
  scope: string;
  client: LoginTransaction['client'];
}

export class SignInError extends Error {
  constructor(readonly reason: string, cause?: unknown) {
    super(reason, { cause });
    this.name = 'SignInError';
  }
}

export class RelyingParty {
  private config?: Promise<oidc.Configuration>;

  constructor(private readonly opts: RelyingPartyOptions) {}

  private configuration(): Promise<oidc.Configuration> {
    if (!this.config) {
      this.config = (async () => {
        const key = (await importJWK(this.opts.privateJwk, 'RS256')) as CryptoKey;
        const issuer = new URL(this.opts.issuer);
        // Plain http only for a loopback issuer (the embedded provider in development and tests).
        const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
        return oidc.discovery(
          issuer,
          this.opts.clientId,
          { id_token_signed_response_alg: 'RS256' },
          oidc.PrivateKeyJwt({ key, kid: this.opts.privateJwk.kid }),
          loopback && issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
        );
      })();
      // A failed discovery (provider not up yet) is retried on the next sign-in.
      this.config.catch(() => { this.config = undefined; });
    }
    return this.config;
  }

  async start(returnTo: string): Promise<{ url: string; tx: LoginTransaction }> {
    const config = await this.configuration();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const tx: LoginTransaction = {
      kind: 'login',
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier,
      returnTo,
      client: this.opts.client,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.opts.redirectUri,
      scope: this.opts.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: tx.state,
      nonce: tx.nonce,
    });
    return { url: url.href, tx };
  }

  /** Exchanges the code and returns the user's claims; any check that fails throws SignInError. */
  async finish(currentUrl: URL, tx: LoginTransaction): Promise<{ claims: AccountClaims; idToken: string }> {
    const config = await this.configuration();
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: tx.codeVerifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw new SignInError(describe(err), err);
    }
    const idClaims = tokens.claims();
    if (!idClaims || !tokens.id_token) throw new SignInError('no ID token');
    let userinfo;
    try {
      userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
    } catch (err) {
      throw new SignInError(`userinfo: ${describe(err)}`, err);
    }
    return { claims: userinfo as unknown as AccountClaims, idToken: tokens.id_token };
  }

  async endSessionUrl(idToken: string): Promise<string | undefined> {
    try {
      const config = await this.configuration();
      return oidc.buildEndSessionUrl(config, { id_token_hint: idToken, post_logout_redirect_uri: this.opts.postLogoutRedirectUri }).href;
    } catch {
      return undefined;
    }
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; error?: string; message?: string };
  return [e.code, e.error, e.message].filter(Boolean).join(': ') || 'sign-in failed';
}
