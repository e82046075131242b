#!/bin/sh
# prerm of the chargewatch package: stop the service when the package is removed (an upgrade
# restarts it in the new postinst instead).
set -e
if [ "$1" = remove ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl disable --now chargewatch.service >/dev/null 2>&1 || true
fi
exit 0
