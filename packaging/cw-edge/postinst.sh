#!/bin/sh
# postinst of the cw-edge package: the service user (in dialout, for the serial ports), the
# queue directory and the systemd unit. The agent is not started on a first install: it needs
# its gateway id, broker and buses in /etc/cw-edge/edge.yaml first. Honours DPKG_ROOT.
set -e
root="${DPKG_ROOT:-}"
uid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/passwd"; }
gid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/group"; }

case "$1" in
configure)
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers ${root:+--root="$root"} "$root/usr/lib/sysusers.d/cw-edge.conf"
	elif [ -z "$root" ] && ! getent passwd cw-edge >/dev/null; then
		adduser --system --group --home /var/lib/cw-edge --no-create-home --shell /usr/sbin/nologin cw-edge
		adduser cw-edge dialout
	fi
	u="$(uid cw-edge)"
	g="$(gid cw-edge)"
	[ -n "$u" ] && [ -n "$g" ] || { echo "cw-edge: the user cw-edge could not be created" >&2; exit 1; }
	install -d -m 0750 "$root/var/lib/cw-edge"
	chown "$u:$g" "$root/var/lib/cw-edge"
	chown "0:$g" "$root/etc/cw-edge" "$root/etc/cw-edge/edge.yaml"
	chmod 0750 "$root/etc/cw-edge"
	chmod 0640 "$root/etc/cw-edge/edge.yaml"

	if [ -z "$root" ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload
		if [ -z "$2" ]; then
			echo "cw-edge: installed, not started. Write /etc/cw-edge/edge.yaml (cw-edge check -config"
			echo "  /etc/cw-edge/edge.yaml), put the MQTT password in /etc/cw-edge/mqtt-password (owner"
			echo "  cw-edge, mode 0600), then: systemctl enable --now cw-edge"
		else
			# An upgrade: the queue on disk is kept and replayed by the new version.
			systemctl try-restart cw-edge.service
		fi
	fi
	;;
esac
exit 0
