/** One log line for a renewalInfo answer (or the failure to get one). */
import type { Logger } from "../report/log.js";
import type { AriState } from "../state/model.js";

export function logAri(log: Logger, a: AriState): void {
  if (a.lastError) log.warn("ari-failed", `renewal information unavailable (${a.lastError}); the local policy decides; asking again at ${a.nextRefreshAt.toISOString()}`);
  else if (a.unsupported) log.info("ari-unsupported", "the CA does not offer renewal information (no renewalInfo in its directory)");
  else
    log.info("ari", `CA suggests renewing between ${a.windowStart?.toISOString()} and ${a.windowEnd?.toISOString()}; selected ${a.selectedTime?.toISOString()}${a.explanationURL ? `; see ${a.explanationURL}` : ""}`, {
      next_refresh: a.nextRefreshAt,
    });
}
