/**
 * Would the pre-check accept this new certificate once installed? One answer for the download that
 * is about to be installed and for a pending certificate a later run finds, so that what `install`
 * accepts and what `check` calls due never disagree (a CA adding names or sending no chain would
 * otherwise be installed and then be due at once, every run).
 */
import { decide, type Decision } from "../decide/decide.js";
import type { Policy } from "../decide/policy.js";
import type { CertFacts, Inspection } from "../inspect/facts.js";
import { factsOf } from "../inspect/read.js";
import type { CertState, IssuedRecord } from "../state/model.js";
import { apply } from "../state/transitions.js";
import type { Material } from "../store/install.js";

export interface Judgement {
  facts: Inspection;
  /** What the state would record for it (null when it does not even parse). */
  issued: IssuedRecord | null;
  /** The pre-check's verdict right after installing it. */
  decision: Decision;
  /**
   * Installing it yields a certificate the pre-check accepts: the key matches, it has not expired,
   * and nothing about it (names, key type, chain, server, profile) makes it due. Its dates may: a
   * clock far ahead makes any new certificate due, and that is the clock's fault, not the CA's.
   */
  ok: boolean;
}

const TIME_REASONS: ReadonlySet<string> = new Set(["window", "ari"]);

export function judgeNew(m: Material, ordered: { server: string; profile: string | null; names: string[] }, state: CertState, policy: Policy, now: Date, label: string): Judgement {
  const facts = factsOf({ cert: m.certPem, key: m.keyPem, chain: m.chainPem }, { cert: `${label}: certificate`, key: `${label}: key` });
  const issued = facts.kind === "present" ? issuedRecord(facts, ordered) : null;
  const decision = decide(facts, apply(state, { type: "installed", at: now, issued }), policy, now);
  const ok = facts.kind === "present" && facts.keyMatches && decision.status !== "expired" && decision.dueReasons.every((r) => TIME_REASONS.has(r));
  return { facts, issued, decision, ok };
}

export function issuedRecord(f: CertFacts, ordered: { server: string; profile: string | null; names: string[] }): IssuedRecord {
  return { serial: f.serialHex, server: ordered.server, profile: ordered.profile, names: [...ordered.names], chain: f.chainPresent };
}
