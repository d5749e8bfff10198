/**
 * The command line as data: every command, its arguments, options and examples, once. parser.ts
 * builds yargs (and so --help and the shell completion) from it, scripts/man.ts the man page.
 */
import type { Options, PositionalOptions } from "yargs";
import { REVOCATION_REASONS } from "../acme/reasons.js";

export type HandlerName = "check" | "ready" | "run" | "validate" | "status" | "doctor" | "schema" | "import" | "delete" | "revoke" | "account" | "completion" | "serve-http01";

/** A yargs option, and for the man page's synopsis the name of its argument. */
export type OptionDef = Options & { arg?: string };

export interface CommandDef {
  /** yargs command string: name and positionals, e.g. "run [names..]". */
  command: string;
  describe: string;
  /** Paragraphs for the man page (after `describe`). */
  details?: string[];
  /** Certificate names as positionals: required (names or --all), or all when none are given. */
  selection?: "required" | "all-by-default";
  positionals?: Record<string, PositionalOptions>;
  options?: Record<string, OptionDef>;
  examples?: Array<[command: string, description: string]>;
  handler: HandlerName;
}

export const PROGRAM = "acme-renew";
export const SUMMARY = "Boot-safe ACME certificate renewal: looks at the certificate on disk first, talks to the CA only when needed.";

export const GLOBAL_OPTIONS: Record<string, OptionDef> = {
  "config-dir": { type: "string", arg: "DIR", default: "/etc/acme-renew", describe: "directory of <name>.json configs (env ACME_RENEW_CONFIG_DIR)" },
  "state-dir": { type: "string", arg: "DIR", default: "/var/lib/acme-renew", describe: "certificates and state (env ACME_RENEW_STATE_DIR)" },
  "log-format": { choices: ["auto", "journal", "json", "text"], default: "auto", describe: "log line format (stderr)" },
  // ACME_RENEW_DEBUG (read by the logger) must not be an "unknown argument" through yargs' .env().
  debug: { type: "string", hidden: true, describe: "debug-level log lines (or env ACME_RENEW_DEBUG)" },
};

const json = (describe = "one JSON object per certificate on stdout"): Options => ({ type: "boolean", describe });

export const COMMANDS: CommandDef[] = [
  {
    command: "check [names..]",
    describe: "offline pre-check: is each certificate usable, is it due? (no network)",
    details: ["Reads the certificate, key, chain and state of each certificate and reports valid, due (with the reasons), missing, expired, not-yet-valid, mismatch or unreadable. On a terminal it prints one table; otherwise one tab-separated line per certificate. Never uses the network. Exit 0 when every certificate is usable, 1 when one is not, 78 for a configuration error."],
    selection: "required",
    options: { json: json() },
    examples: [["acme-renew check --all", "every certificate, as a table on a terminal"]],
    handler: "check",
  },
  {
    command: "ready [names..]",
    describe: "boot path, offline: exit 0 when a usable certificate is on disk, else write a self-signed placeholder (no network, never waits for the CA)",
    details: ["The boot step (acme-renew-ready@.service): exit 0 when a usable certificate is on disk; when there is none and the config allows it (placeholder), writes a self-signed placeholder first and exits 0; exit 1 only when it can provide neither."],
    selection: "required",
    examples: [["acme-renew ready --all", "before the web server starts"]],
    handler: "ready",
  },
  {
    command: "run [names..]",
    describe: "renew what is due (pre-check first; the CA is contacted only when needed)",
    details: ["The same pre-check as check; when nothing is due, exit 0 at once. Otherwise: lock, order from the CA, install key and certificate atomically, reload hooks. Exit 75 when a renewal failed but the certificate in place is still valid, 3 when only a self-signed placeholder is in place, 1 when no usable certificate is left. With --all on a terminal, one status line shows the progress."],
    selection: "required",
    options: {
      force: { type: "boolean", describe: "renew even when not due" },
      timeout: { type: "number", arg: "S", describe: "overall deadline in seconds (default: the config's timeout)" },
      concurrency: { type: "number", arg: "N", default: 4, describe: "certificates renewed at once with --all" },
      "dry-run": { type: "boolean", describe: "the whole order against the staging server (stagingServer, or --server): account, challenges, finalize, download, verify; nothing installed, no state written, no hooks run" },
      server: { type: "string", arg: "URL", describe: "with --dry-run: the ACME directory to order from instead of stagingServer" },
      json: json(),
    },
    examples: [
      ["acme-renew run --all", "what the timer runs"],
      ["acme-renew run example.com --force", "renew one certificate now"],
      ["acme-renew run --dry-run example.com", "order once from Let's Encrypt staging, keep nothing"],
    ],
    handler: "run",
  },
  {
    command: "validate [names..]",
    describe: "validate configuration files (and that each group exists)",
    details: ["Checks each configuration file, that each group exists (NSS: getent), that the CA's terms are accepted where an account must be registered, and that a DNS provider's variables are set — without network. Exit 78 for a configuration error."],
    selection: "all-by-default",
    options: {
      // --no-group-check: where the host's groups are not there (a Nix build sandbox).
      "group-check": { type: "boolean", default: true, describe: "resolve each group through NSS (getent); --no-group-check skips it" },
      // --no-credentials: where the secrets are not there (a Nix build sandbox).
      credentials: { type: "boolean", default: true, describe: "check that a DNS provider's variables are set (reads environmentFile, credentialFiles); off where the secrets are absent, e.g. a Nix build sandbox" },
    },
    examples: [["acme-renew validate", "every config file"]],
    handler: "validate",
  },
  {
    command: "status [names..]",
    describe: "offline overview: expiry, decision, next renewal (window or ARI), last attempt and outcome, failures",
    selection: "all-by-default",
    options: {
      json: json("one JSON object per certificate"),
      prometheus: { type: "string", arg: "FILE", describe: "write a node_exporter textfile (atomically) to this path instead" },
      cluster: { type: "boolean", describe: "cluster mode: also show the shared certificate, the local one against it, and who holds the lock (connects to etcd)" },
    },
    examples: [["acme-renew status --json", "the same as JSON"]],
    handler: "status",
  },
  {
    command: "doctor [names..]",
    describe: "explain the state of certificates: config, files, permissions, lock, network, clock, disk, CA reachability",
    selection: "all-by-default",
    options: { json: json("the findings as JSON") },
    handler: "doctor",
  },
  {
    command: "import <tool> [dir]",
    describe: "take over certbot's, lego's, acme.sh's or NixOS's certificates: print the configs it would write (--write: write them and adopt each certificate as it is, nothing re-issued)",
    details: [
      "Reads the other client's state (certbot: renewal/<name>.conf and live/<name>/; lego: certificates/<domain>.{crt,key,issuer.crt,json}; acme.sh: <domain>/<domain>.conf and its files; NixOS security.acme: /var/lib/acme/<name>/) and prints, per certificate, the config it would write, with every setting it could not carry over listed. With --write it adopts the certificate and key as the first version in the state directory, then writes the config — never over an existing config and never into a directory that holds a certificate; nothing is written when any certificate cannot be imported (--only picks some). Exit 78 when the input cannot be imported as it is, 64 when DIR is not the tool's directory.",
    ],
    positionals: {
      tool: { choices: ["certbot", "lego", "acme.sh", "nixos"], describe: "the client whose state to read" },
      dir: { type: "string", describe: "its directory (default: /etc/letsencrypt, $LEGO_PATH or ./.lego, ~/.acme.sh, /var/lib/acme)" },
    },
    options: {
      write: { type: "boolean", describe: "write the configs and adopt the certificates" },
      set: { type: "string", array: true, arg: "FIELD=VALUE", describe: "FIELD=VALUE added to every imported config (a JSON value or a word), e.g. webroot=/var/www" },
      only: { type: "string", array: true, arg: "NAME", describe: "import only these certificates (by the names shown)" },
    },
    examples: [
      ["acme-renew import certbot", "show what /etc/letsencrypt would become"],
      ["acme-renew import certbot /etc/letsencrypt --write", "write the configs, adopt the certificates"],
      ["acme-renew import lego ~/.lego --set webroot=/var/www", "lego does not record the challenge"],
    ],
    handler: "import",
  },
  {
    command: "delete <name>",
    describe: "remove a certificate's files, versions and state (refused while its config exists, unless --force)",
    details: ["Takes the certificate's lock, moves its directory aside with one rename and then removes it, so a reader sees the certificate or nothing, never half of it. The config file is never touched: with --force and the config still there, the next run orders a new certificate."],
    positionals: { name: { type: "string", describe: "the certificate (config file name without .json)" } },
    options: { force: { type: "boolean", describe: "delete even though the config still names the certificate" } },
    examples: [["acme-renew delete old.example.com", "after removing its config file"]],
    handler: "delete",
  },
  {
    command: "revoke <name>",
    describe: "revoke the certificate on disk at its CA (RFC 8555 §7.6); the next run replaces it at once",
    details: [
      "Signed with the ACME account's key, or with the certificate's own key when there is no account (or the CA refuses it); keyCompromise is always signed with the certificate's key (Let's Encrypt requires that proof). The revocation is recorded in state.json: the certificate is due (revoked) and the next run orders its replacement without waiting for the renewal window or a backoff; after keyCompromise the old key is never used again, also with reuseKey. With ari, the CA's new renewal window is fetched at once. Nothing on disk changes unless the CA revoked the certificate. Exit 0 when revoked (or already revoked), 1 when the CA refused or could not be reached, 64 for an unknown name or reason.",
    ],
    positionals: { name: { type: "string", describe: "the certificate (config file name without .json)" } },
    options: {
      reason: { choices: Object.keys(REVOCATION_REASONS), default: "unspecified", describe: "RFC 5280 revocation reason" },
    },
    examples: [
      ["acme-renew revoke example.com --reason superseded", "revoke, then let the next run replace it"],
      ["acme-renew revoke example.com --reason keyCompromise", "the key leaked: signed with it, never reused"],
    ],
    handler: "revoke",
  },
  {
    command: "account <action> [name]",
    describe: "the ACME account (per server and email): show it as stored and as the CA sees it, or deactivate it",
    details: [
      "show: for the account of each certificate (or of NAME): server, email, the certificates using it, the account URL, and its status and contact at the CA (one signed POST-as-GET; nothing is registered). deactivate: deactivates the account of NAME's server and email at the CA (RFC 8555 §7.3.6; it cannot be undone), after asking on the terminal or with --yes; its directory under accounts/ is then moved aside and kept, and the next order registers a new account (acceptTerms). Exit 0 when done, 1 when the CA refused or could not be asked (or the question was answered no), 64 without --yes off a terminal.",
    ],
    positionals: {
      action: { choices: ["show", "deactivate"], describe: "what to do" },
      name: { type: "string", describe: "a certificate whose config names the server and email (show: default every certificate's account)" },
    },
    options: {
      yes: { type: "boolean", describe: "deactivate without asking" },
      json: json("the accounts as JSON (show)"),
    },
    examples: [
      ["acme-renew account show", "every account in use"],
      ["acme-renew account deactivate example.com --yes", "deactivate the account example.com uses"],
    ],
    handler: "account",
  },
  {
    command: "serve-http01",
    describe: "cluster mode: answer http-01 challenges from etcd, for orders placed by any host of the cluster",
    details: ["Serves the key authorizations the issuing host published in etcd (the cluster settings of defaults.json, else of the first certificate config that has them), so that the CA's http-01 request may reach any host of the cluster. Socket-activated by acme-renew-http01.socket, or on --listen; the web server forwards /.well-known/acme-challenge/ to it (README: nginx example). Exit 78 when no config sets cluster."],
    options: { listen: { type: "string", arg: "HOST:PORT", describe: "listen here instead of on the systemd socket, e.g. 127.0.0.1:8402" } },
    examples: [["acme-renew serve-http01 --listen 127.0.0.1:8402", "by hand, without the socket unit"]],
    handler: "serve-http01",
  },
  {
    command: "completion [shell]",
    describe: "print the shell completion script (bash or zsh)",
    positionals: { shell: { choices: ["bash", "zsh"], describe: "the shell (default: from $SHELL)" } },
    examples: [["acme-renew completion bash >> ~/.bashrc", "bash completion"]],
    handler: "completion",
  },
  { command: "schema", describe: "print the JSON Schema of the config files", handler: "schema" },
];

/** For the man page: what the exit codes mean (src/report/exit.ts has the numbers). */
export const EXIT_STATUS: Array<[code: number, meaning: string]> = [
  [0, "ok: not due, or renewed"],
  [75, "renewal failed (or a reload hook failed, or backing off) but the certificate in place is still valid; treat as success"],
  [3, "no CA-issued certificate yet, a self-signed placeholder is in place (services can start)"],
  [1, "no usable certificate (missing, expired, mismatched), or a hard failure"],
  [78, "configuration error (also: another client's state that cannot be imported as it is)"],
  [64, "usage error"],
];

export const ENVIRONMENT: Array<[name: string, meaning: string]> = [
  ["ACME_RENEW_CONFIG_DIR", "default of --config-dir"],
  ["ACME_RENEW_STATE_DIR", "default of --state-dir"],
  ["ACME_RENEW_LOG_FORMAT", "default of --log-format"],
  ["ACME_RENEW_DEBUG", "when set, debug-level log lines"],
  ["NO_COLOR", "when set (not empty), tables on a terminal have no colours"],
  ["NOTIFY_SOCKET", "set by systemd: run reports its stages with sd_notify"],
  ["JOURNAL_STREAM", "set by systemd: log lines in journal format"],
];

export const FILES: Array<[path: string, meaning: string]> = [
  ["/etc/acme-renew/<name>.json", "one certificate's configuration (acme-renew schema prints the JSON Schema)"],
  ["/etc/acme-renew/defaults.json", "inherited by every certificate unless it says \"inheritDefaults\": false"],
  ["/var/lib/acme-renew/<name>/", "cert.pem, chain.pem, fullchain.pem, key.pem, full.pem (symlinks through current/ to a version under versions/), state.json"],
  ["/var/lib/acme-renew/accounts/", "ACME account keys, one per server and email"],
];
