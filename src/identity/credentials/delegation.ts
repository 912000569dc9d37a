import { forbidden } from '../../platform/http/faults.js';
import { policyCreds, type TokenContext } from '../context.js';
import type { Identity } from '../identity.js';

/** Keystone's ForbiddenAction: "You are not authorized to perform the requested action: <action>." */
export const forbiddenAction = (action: string) => forbidden(`You are not authorized to perform the requested action: ${action}.`);

/** True when the caller's token is a delegation (trust or application credential). */
export function isDelegated(ctx: TokenContext): boolean {
  return Boolean(ctx.trust || ctx.appCred);
}

/**
 * Keystone's delegation project boundary (upstream's fix for bug 2150089): a trust or
 * application-credential token may only touch credentials bound to exactly its own project
 * (never project-less ones such as TOTP seeds). Other tokens pass.
 */
export function inDelegationScope(ctx: TokenContext, projectId: string | null | undefined): boolean {
  return !isDelegated(ctx) || (projectId ?? null) === (ctx.project?.id ?? null) && projectId !== null && projectId !== undefined;
}

/** Throws 403 when {@link inDelegationScope} is false. */
export function assertDelegationScope(ctx: TokenContext, projectId: string | null | undefined, what = 'Credential'): void {
  if (!inDelegationScope(ctx, projectId)) {
    throw forbiddenAction(`${what} project does not match the project scope of the delegated token`);
  }
}

/** Keystone refuses restricted application credentials the management of other credentials. */
export function assertNotRestrictedAppCred(ctx: TokenContext, what: string): void {
  if (ctx.appCred && !ctx.appCred.unrestricted) {
    throw forbiddenAction(`Using method 'application_credential' is not allowed for managing ${what}`);
  }
}

/** A policy check that answers instead of throwing (for filtering lists). */
export function allowed(id: Identity, ctx: TokenContext, rule: string, target: Record<string, unknown>): boolean {
  return id.policy.enforce(rule, target, policyCreds(ctx));
}
