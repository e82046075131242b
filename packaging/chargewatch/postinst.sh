#!/bin/sh
# postinst of the chargewatch package: the service user, the state and secrets directories,
# and the systemd unit. Honours DPKG_ROOT (dpkg --force-script-chrootless installs into a
# root without running scripts inside it; the package test installs so).
set -e
root="${DPKG_ROOT:-}"

# uid NAME / gid NAME: ids from the target root's own databases (not the host's).
uid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/passwd"; }
gid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/group"; }

case "$1" in
configure)
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers ${root:+--root="$root"} "$root/usr/lib/sysusers.d/chargewatch.conf"
	elif [ -z "$root" ] && ! getent passwd chargewatch >/dev/null; then
		adduser --system --group --home /var/lib/chargewatch --no-create-home --shell /usr/sbin/nologin chargewatch
	fi
	u="$(uid chargewatch)"
	g="$(gid chargewatch)"
	[ -n "$u" ] && [ -n "$g" ] || { echo "chargewatch: the user chargewatch could not be created" >&2; exit 1; }
	# Data: the registry, the alert and outbox databases, the durable logs.
	install -d -m 0750 "$root/var/lib/chargewatch"
	chown "$u:$g" "$root/var/lib/chargewatch"
	# Configuration: readable by the service, not by everyone (it names secret files).
	chown "0:$g" "$root/etc/chargewatch" "$root/etc/chargewatch/chargewatch.yaml"
	chmod 0750 "$root/etc/chargewatch"
	chmod 0640 "$root/etc/chargewatch/chargewatch.yaml"
	# Secrets (mqtt.password_file, influxdb.password_file): files owned by chargewatch, mode 0600.
	install -d -m 0750 "$root/etc/chargewatch/secrets"
	chown "$u:$g" "$root/etc/chargewatch/secrets"

	if [ -z "$root" ] && [ -d /run/systemd/system ]; then
		systemctl daemon-reload
		if [ -z "$2" ]; then
			systemctl enable chargewatch.service >/dev/null 2>&1 || true
			echo "chargewatch: installed and enabled, not started. Check /etc/chargewatch/chargewatch.yaml"
			echo "  (chargewatch check-config), import the site file (chargewatch devices import --db"
			echo "  /var/lib/chargewatch/registry.db site.yaml), then: systemctl start chargewatch"
		elif systemctl is-active --quiet chargewatch.service; then
			# An upgrade of a running server: back the databases up first (while it runs),
			# then restart; the new version migrates them forward on start.
			b="/var/lib/chargewatch/backups/before-$(date -u +%Y%m%dT%H%M%SZ)-from-$2"
			if runuser -u chargewatch -- /usr/bin/chargewatch backup --config /etc/chargewatch/chargewatch.yaml "$b" >/dev/null 2>&1; then
				echo "chargewatch: databases backed up to $b"
			else
				echo "chargewatch: WARNING: the backup before the upgrade failed; restarting anyway" >&2
			fi
			systemctl restart chargewatch.service
		fi
	fi
	;;
esac
exit 0
