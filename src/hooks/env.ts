/**
 * The environment variables acme-renew gives its hooks: one meaning each, the same name in every
 * hook that gets it (README "Hook environment" lists them; a test keeps the two equal). acme-renew
 * itself never reads them, so a hook can call acme-renew (see cli/parser.ts).
 */
export const HOOK_VARS = {
  ACME_RENEW_CERT_NAME: { hooks: "postRun, dnsHook", meaning: "the certificate's name (its config file name without .json)" },
  ACME_RENEW_DOMAINS: { hooks: "postRun, dnsHook", meaning: "all its names, primary first, separated by spaces" },
  ACME_RENEW_CERT_DIR: { hooks: "postRun", meaning: "its directory under the state dir (also the hook's working directory)" },
  ACME_RENEW_CERT: { hooks: "postRun", meaning: "path of cert.pem (the leaf certificate)" },
  ACME_RENEW_KEY: { hooks: "postRun", meaning: "path of key.pem" },
  ACME_RENEW_CHAIN: { hooks: "postRun", meaning: "path of chain.pem (the intermediates)" },
  ACME_RENEW_FULLCHAIN: { hooks: "postRun", meaning: "path of fullchain.pem (leaf + intermediates)" },
  ACME_RENEW_FULL: { hooks: "postRun", meaning: "path of full.pem (key + leaf + intermediates)" },
} as const;

export type HookVar = keyof typeof HOOK_VARS;
export const HOOK_VAR_NAMES = Object.keys(HOOK_VARS) as HookVar[];

/**
 * `base` (our environment) with `vars` set: without NOTIFY_SOCKET (a hook must not change the
 * unit's status) and without hook variables inherited from an outer hook, so none means two things.
 */
export function hookEnv(vars: Partial<Record<HookVar, string>>, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  delete env.NOTIFY_SOCKET;
  for (const k of HOOK_VAR_NAMES) delete env[k];
  return { ...env, ...vars };
}

/** Removes hook variables from an environment we were started with (acme-renew called by a hook). */
export function forgetHookVars(env: NodeJS.ProcessEnv): void {
  for (const k of HOOK_VAR_NAMES) delete env[k];
}
