# Usage: run-in-slot.sh SLOTS COMMAND [ARG…]   (bash; the NixOS module's ExecStart= of acme-renew@.service)
#
# services.acme-renew.maxConcurrentRenewals: systemd cannot cap the running instances of a
# template, so each run first takes one of SLOTS flock(1) slots in $RUNTIME_DIRECTORY (the unit's
# RuntimeDirectory=) and then execs COMMAND, which holds the lock (an inherited descriptor) until
# it exits.
#
# The wait counts towards the unit's TimeoutStartSec= (a oneshot is "activating" all along), so a
# queue longer than that would end in "Result: timeout". While it waits the script therefore tells
# systemd every $ACME_RENEW_SLOT_NOTIFY_EVERY seconds (30) that it is alive, EXTEND_TIMEOUT_USEC=
# three such periods ahead (NotifyAccess=all; systemd-notify waits until systemd has read it). The
# wait itself is not bounded; once COMMAND runs, acme-renew extends the timeout by its own deadline
# when it renews (src/renew/renew.ts). Outside systemd (no NOTIFY_SOCKET) nothing is sent.
set -u

slots=$1
shift
dir=${RUNTIME_DIRECTORY:?run-in-slot.sh: RUNTIME_DIRECTORY is not set (RuntimeDirectory= of the unit)}
dir=${dir%%:*} # the first one, should the unit ever list several
every=${ACME_RENEW_SLOT_NOTIFY_EVERY:-30}

notify() {
  [ -n "${NOTIFY_SOCKET:-}" ] && systemd-notify "$@" >/dev/null 2>&1
  return 0
}

waited=0
while :; do
  for ((i = 1; i <= slots; i++)); do
    exec {fd}>"$dir/slot-$i.lock" || exit 1
    if flock --nonblock "$fd"; then
      ((waited > 0)) && notify "STATUS=got renewal slot $i of $slots after ${waited}s"
      exec "$@"
    fi
    exec {fd}>&-
  done
  if ((waited % every == 0)); then
    ((waited == 0)) && echo "waiting for one of $slots renewal slots (services.acme-renew.maxConcurrentRenewals)"
    notify "EXTEND_TIMEOUT_USEC=$((every * 3 * 1000000))" "STATUS=waiting for one of $slots renewal slots (${waited}s)"
  fi
  sleep 1
  waited=$((waited + 1))
done
