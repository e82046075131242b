#!/bin/sh
# postrm of the cw-edge package. Purging does NOT delete /var/lib/cw-edge: its queue may hold
# readings that were never published.
set -e
if [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
if [ "$1" = purge ]; then
	echo "cw-edge: /var/lib/cw-edge (the queue: readings not yet published?) and the user cw-edge are kept; delete them by hand"
fi
exit 0
