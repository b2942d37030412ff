// The action's own Azure login. With azure-client-id + azure-tenant-id it exchanges the
// workflow's GitHub OIDC token directly (no azure/login step needed); otherwise it takes
// whatever DefaultAzureCredential finds (azure/login leaves an az CLI session behind).
// Login failures are the first thing a new user hits, so each one says what to change.
import { ClientAssertionCredential, DefaultAzureCredential, type AccessToken, type GetTokenOptions, type TokenCredential } from '@azure/identity';
import { CLOUDS, type Settings } from '../settings.ts';
import { createNetwork, type Network } from '../net/index.ts';
import { recognisedAcrossBundles } from '../cross-bundle.ts';
import { AzureCallError } from './errors.ts';
import { retryPipelinePolicy, timeoutPolicy } from './pipeline.ts';

const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com';

/** A failed login, with the AADSTS code (or our own code) kept and the fix in the message. */
export class AzureLoginError extends AzureCallError {
  constructor(code: string, message: string, cause?: unknown) {
    super('Azure login', code, message, { cause });
    this.name = 'AzureLoginError';
  }
}

recognisedAcrossBundles(AzureLoginError, 'AzureLoginError');

const normalizeHost = (url: string): string => url.replace(/\/+$/, '').toLowerCase();

/** MSAL's instance discovery knows the public and sovereign clouds only; anything else (Azure Stack, the sandbox) must skip it. */
export function isKnownAuthorityHost(authorityHost: string): boolean {
  return Object.values(CLOUDS).some((c) => normalizeHost(c.authorityHost) === normalizeHost(authorityHost));
}

/** Decodes (does not verify) a JWT's payload: only to name the claims in an error message. */
export function decodeJwtClaims(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split('.')[1];
  if (!payload) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function aadstsCode(err: unknown): string | undefined {
  const e = err as { errorResponse?: { errorCodes?: number[] }; message?: string } | undefined;
  const fromBody = e?.errorResponse?.errorCodes?.[0];
  if (fromBody !== undefined) return `AADSTS${fromBody}`;
  return /AADSTS(\d+)/.exec(e?.message ?? String(err))?.[0];
}

interface LoginContext {
  clientId: string;
  tenantId: string;
  authorityHost: string;
  /** Audience asked of GitHub for the token (the audience input, or the cloud's); the FIC must list it. */
  audience: string;
  /** Claims of the last GitHub token we sent, to say exactly which FIC is missing. */
  claims?: Record<string, unknown>;
}

function ficAdvice(ctx: LoginContext): string {
  const iss = typeof ctx.claims?.iss === 'string' ? ctx.claims.iss : GITHUB_OIDC_ISSUER;
  const sub = typeof ctx.claims?.sub === 'string' ? ctx.claims.sub : 'repo:OWNER/REPO:environment:NAME';
  return (
    `Add a federated credential to the login identity (client id ${ctx.clientId}, tenant ${ctx.tenantId}) with ` +
    `issuer '${iss}', subject '${sub}' and audience '${ctx.audience}' (the audience input, default from azure-cloud). ` +
    `For a managed identity: az identity federated-credential create -g <rg> --identity-name <login identity> --name github-actions ` +
    `--issuer ${iss} --subject '${sub}' --audiences ${ctx.audience}. ` +
    `For an app registration: az ad app federated-credential create --id ${ctx.clientId} --parameters ` +
    `'{"name":"github-actions","issuer":"${iss}","subject":"${sub}","audiences":["${ctx.audience}"]}'. ` +
    `The subject depends on the job: a deployment job with 'environment:' gets repo:OWNER/REPO:environment:NAME, ` +
    `a pull_request job repo:OWNER/REPO:pull_request, a branch job repo:OWNER/REPO:ref:refs/heads/BRANCH.`
  );
}

/** Turns a token-request failure into the one thing to fix. Exported for tests. */
export function explainLoginError(err: unknown, ctx: LoginContext): AzureLoginError {
  if (err instanceof AzureLoginError) return err;
  const text = (err as Error | undefined)?.message ?? String(err);
  const code = aadstsCode(err);
  switch (code) {
    case 'AADSTS70021':
      return new AzureLoginError(code, `Entra ID has no federated credential matching this workflow's GitHub token. ${ficAdvice(ctx)}`, err);
    case 'AADSTS70025':
      // Not a mismatch: nothing to compare with. The usual first error of an identity that
      // so far only ever logged in through Pod Identity (IMDS) or a secret.
      return new AzureLoginError(
        code,
        `The login identity (client id ${ctx.clientId}) has no federated credential at all, so Entra ID cannot trust any GitHub token for it yet. ${ficAdvice(ctx)}`,
        err,
      );
    case 'AADSTS700211':
    case 'AADSTS700212':
    case 'AADSTS700213':
    case 'AADSTS7002138': {
      const what = { AADSTS700211: 'issuer', AADSTS700212: 'audience', AADSTS700213: 'subject', AADSTS7002138: 'subject (it differs only in case)' }[code];
      return new AzureLoginError(code, `The login identity's federated credential does not match the GitHub token's ${what}. ${ficAdvice(ctx)}`, err);
    }
    case 'AADSTS700016':
      return new AzureLoginError(code, `No application with client id ${ctx.clientId} in tenant ${ctx.tenantId}: check the inputs azure-client-id and azure-tenant-id (and azure-cloud / authority-host for a sovereign cloud).`, err);
    case 'AADSTS90002':
      return new AzureLoginError(code, `Tenant ${ctx.tenantId} was not found at ${ctx.authorityHost}: check azure-tenant-id and azure-cloud / authority-host.`, err);
    case undefined:
      break;
    default:
      return new AzureLoginError(code, `Login with the GitHub OIDC token failed: ${text}`, err);
  }
  return new AzureLoginError('LoginFailed', `Login to ${ctx.authorityHost} as client ${ctx.clientId} failed: ${text}`, err);
}

function explainIdTokenError(err: unknown): AzureLoginError {
  const text = (err as Error | undefined)?.message ?? String(err);
  if (/ACTIONS_ID_TOKEN_REQUEST_(URL|TOKEN)/.test(text)) {
    return new AzureLoginError(
      'MissingIdTokenPermission',
      "The job cannot request a GitHub OIDC token. Add 'permissions: id-token: write' (with 'contents: read' and 'pull-requests: write' as needed) " +
        "to the job or the workflow. GitHub never grants it to pull requests from forks: run 'mode: validate' there.",
      err,
    );
  }
  return new AzureLoginError('GitHubOidcTokenFailed', `Could not get the workflow's GitHub OIDC token: ${text}`, err);
}

/**
 * Entra's token requests under the network policy: the SDK's retry off, ours and the
 * request timeout in its place (the IdentityClient is MSAL's network client, so every
 * token request goes through this pipeline).
 */
function entraPipeline(net: Network) {
  return {
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [
      { policy: retryPipelinePolicy(net, 'Entra token request'), position: 'perCall' as const },
      { policy: timeoutPolicy(net), position: 'perRetry' as const },
    ],
  };
}

function githubOidcCredential(settings: Settings['azure'], getIdToken: (audience: string) => Promise<string>, net: Network): TokenCredential {
  const ctx: LoginContext = { clientId: settings.clientId, tenantId: settings.tenantId, authorityHost: settings.authorityHost, audience: settings.audience };
  let idTokenError: AzureLoginError | undefined;
  const inner = new ClientAssertionCredential(
    settings.tenantId,
    settings.clientId,
    async () => {
      try {
        const token = await getIdToken(ctx.audience);
        ctx.claims = decodeJwtClaims(token);
        idTokenError = undefined;
        return token;
      } catch (err) {
        // MSAL wraps callback errors; keep ours so the permission advice survives.
        idTokenError = explainIdTokenError(err);
        throw idTokenError;
      }
    },
    { authorityHost: settings.authorityHost, disableInstanceDiscovery: !isKnownAuthorityHost(settings.authorityHost), ...entraPipeline(net) },
  );
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await inner.getToken(scopes, options);
      } catch (err) {
        if (idTokenError) throw idTokenError;
        throw explainLoginError(err, ctx);
      }
    },
  };
}

function defaultCredential(settings: Settings['azure'], net: Network): TokenCredential {
  const inner = new DefaultAzureCredential({
    authorityHost: settings.authorityHost,
    disableInstanceDiscovery: !isKnownAuthorityHost(settings.authorityHost),
    // The az CLI / azd / PowerShell credentials run a process: bounded like a request.
    processTimeoutInMs: net.timeoutMs,
    ...entraPipeline(net),
  });
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await inner.getToken(scopes, options);
      } catch (err) {
        throw new AzureLoginError(
          'NoAzureCredential',
          'No Azure login found. Either run azure/login before this step, or set azure-client-id and azure-tenant-id ' +
            "(with 'permissions: id-token: write') to log in with the workflow's GitHub OIDC token. " +
            `Details: ${(err as Error | undefined)?.message ?? String(err)}`,
          err,
        );
      }
    },
  };
}

export function createAzureCredential(settings: Settings['azure'], getIdToken: (audience: string) => Promise<string>, net: Network = createNetwork()): TokenCredential {
  return settings.clientId && settings.tenantId ? githubOidcCredential(settings, getIdToken, net) : defaultCredential(settings, net);
}

/**
 * The SDK refreshes a token in the background (core-rest-pipeline's token cycler, from 2
 * minutes before expiry) and nobody awaits that refresh: when Entra is down at that moment
 * its final failure is an unhandled rejection, and Node ends the process with exit 1 — a
 * successful apply would fail. Only that rejection becomes a warning (every error our
 * credential throws is an AzureLoginError, and the cycler's own "Failed to refresh access
 * token."); anything else stays fatal, as a blanket handler would hide real bugs. A call
 * that needs the token still fails on its own, and the exit code follows the report.
 */
export function isBackgroundTokenRefreshFailure(reason: unknown): boolean {
  const e = reason as { name?: unknown; message?: unknown } | undefined;
  return e?.name === 'AzureLoginError' || e?.message === 'Failed to refresh access token.';
}

export function warnOnBackgroundTokenRefresh(warn: (message: string) => void, proc: Pick<NodeJS.Process, 'on'> = process): void {
  proc.on('unhandledRejection', (reason) => {
    if (!isBackgroundTokenRefreshFailure(reason)) throw reason;
    warn(`The Azure SDK's background token refresh failed; calls still needing a token report their own error: ${(reason as Error).message}`);
  });
}
