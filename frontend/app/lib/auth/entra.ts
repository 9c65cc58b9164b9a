import * as oidc from 'openid-client';
import { transaction } from '../db';
import { roleFromClaims, type EntraConfig, type Role } from './config';

/**
 * Microsoft Entra ID sign-in: OpenID Connect authorization code flow with PKCE (S256), state and
 * nonce, through openid-client. The tenant's endpoints are fixed by Microsoft
 * (https://learn.microsoft.com/entra/identity-platform/v2-protocols-oidc), so they are built from
 * the tenant id instead of fetched at start-up; the ID token is still checked against the tenant's
 * published keys (jwks_uri), issuer, audience and nonce by openid-client.
 */

export function entraServer(entra: EntraConfig): oidc.Configuration {
  const base = `${entra.authority}/${entra.tenantId}`;
  return new oidc.Configuration(
    {
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    },
    entra.clientId,
    entra.clientSecret,
  );
}

/** What the browser keeps (HttpOnly cookie, 10 minutes) between leaving for Entra and coming back. */
export type PendingSignIn = { state: string; nonce: string; verifier: string; next: string };

export async function authorizationRequest(entra: EntraConfig, next: string): Promise<{ url: URL; pending: PendingSignIn }> {
  const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), next };
  const url = oidc.buildAuthorizationUrl(entraServer(entra), {
    redirect_uri: entra.redirectUri,
    response_type: 'code',
    response_mode: 'query',
    scope: 'openid profile email',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
  });
  return { url, pending };
}

export class EntraAccessError extends Error {}

/** Redeems the code, validates the ID token, maps its roles/groups, and upserts the account. */
export async function completeSignIn(entra: EntraConfig, callback: URL, pending: PendingSignIn): Promise<{ accountId: number; account: string; role: Role }> {
  // openid-client sends this URL without its query as redirect_uri: the one registered in Entra,
  // not the address this process sees behind a proxy.
  const current = new URL(entra.redirectUri);
  current.search = callback.search;
  const tokens = await oidc.authorizationCodeGrant(
    entraServer(entra),
    current,
    { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
  );
  const claims = tokens.claims();
  if (!claims) throw new EntraAccessError('Microsoft Entra ID returned no ID token');
  return accountFromClaims(entra, claims as Record<string, unknown>);
}

export async function accountFromClaims(entra: EntraConfig, claims: Record<string, unknown>): Promise<{ accountId: number; account: string; role: Role }> {
  const role = roleFromClaims(claims, entra);
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  const name = str(claims.preferred_username) ?? str(claims.email) ?? str(claims.upn);
  const oid = str(claims.oid);
  const tid = str(claims.tid);
  if (!name || !oid || !tid) throw new EntraAccessError('the ID token has no preferred_username, oid or tid claim');
  if (!role) throw new EntraAccessError(`${name} has no Altaviz role: assign the Altaviz.Operator or Altaviz.Viewer app role in Microsoft Entra ID`);
  const externalId = `${tid}:${oid}`.slice(0, 128);
  return transaction(async (client) => {
    const clash = await client.query<{ external_id: string | null }>(`SELECT external_id FROM accounts WHERE account_name = $1 FOR UPDATE`, [name]);
    if (clash.rows[0] && clash.rows[0].external_id !== externalId) {
      throw new EntraAccessError(`the account name ${name} is already taken by another account`);
    }
    // The role follows the directory at every sign-in: removing someone's app role takes effect next time.
    const row = await client.query<{ account_id: number }>(
      `INSERT INTO accounts (account_name, role, provider, external_id, last_sign_in_at) VALUES ($1, $2, 'entra', $3, now())
       ON CONFLICT (account_name) DO UPDATE SET role = EXCLUDED.role, last_sign_in_at = now(), updated_at = now()
       RETURNING account_id`,
      [name.slice(0, 128), role, externalId],
    );
    return { accountId: Number(row.rows[0]!.account_id), account: name, role };
  });
}

