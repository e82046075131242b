#!/bin/sh
# prerm of the cw-edge package: stop the agent when the package is removed. Readings still in
# its queue (/var/lib/cw-edge) stay on disk.
set -e
if [ "$1" = remove ] && [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl disable --now cw-edge.service >/dev/null 2>&1 || true
fi
exit 0
