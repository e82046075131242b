#!/bin/sh
# postrm of the chargewatch package. Purging does NOT delete /var/lib/chargewatch: the
# registry, the alert history and the durable logs outlive the package on purpose.
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
	echo "chargewatch: /var/lib/chargewatch (registry, alerts, durable logs) and the user chargewatch are kept; delete them by hand if they are no longer needed"
fi
exit 0
