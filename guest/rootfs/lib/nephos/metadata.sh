# Instance metadata, sourced by /etc/nephos/boot. Fills $MD (a directory) with:
#   meta_data.json (OpenStack form, when the source has it), meta.flat (its flattened form,
#   see json.awk), user_data (when present), hostname, uuid, keys (one per line), source.
#   From a config drive, meta_data.json and user_data arrive with md_finish, after the
#   boot-complete line.
# Sources, first found wins: a config drive (label config-2, ISO 9660 or VFAT), then the
# OpenStack metadata service at 169.254.169.254, then its EC2-compatible paths.
# From boot: $CONFIG_MOUNTED (set when boot found the config drive on a virtio disk and mounted
# it on /mnt/config), $STORAGE_JOB (IDE drivers loading in the background, if any), $DHCP_JOB.
MD=/run/nephos/metadata
MD_URL=http://169.254.169.254

# Flattens an OpenStack meta_data.json ($1, default $MD/meta_data.json) into $MD/meta.flat and
# picks hostname (else name), uuid and public keys from it, in one awk run.
md_from_json() {
	awk -v md="$MD" -f /lib/nephos/json.awk -f /lib/nephos/instance.awk "${1:-$MD/meta_data.json}" > "$MD/meta.flat" 2>/dev/null
}

# Mounts a config drive (label config-2, ISO 9660 or VFAT) on /mnt/config; busybox mount
# resolves LABEL= itself (no findfs run).
md_mount_config() {
	mount -t iso9660,vfat -o ro LABEL=config-2 /mnt/config 2>/dev/null ||
		mount -t iso9660,vfat -o ro LABEL=CONFIG-2 /mnt/config 2>/dev/null
}

# The config drive, unless boot mounted it already. One on the IDE controller shows up only once
# its drivers, loading in the background ($STORAGE_JOB), are in (loading them waits for their
# probe). Its files stay on the drive until md_finish copies them to $MD, after the boot line.
md_config_drive() {
	if [ -z "$CONFIG_MOUNTED" ]; then
		[ -n "$STORAGE_JOB" ] && wait "$STORAGE_JOB"
		STORAGE_JOB=""
		md_mount_config && CONFIG_MOUNTED=1
	fi
	[ -n "$CONFIG_MOUNTED" ] || return 1
	dev=""
	while read -r mdev mpoint _; do [ "$mpoint" = /mnt/config ] && dev=$mdev; done < /proc/mounts
	d=/mnt/config/openstack/latest
	[ -f "$d/meta_data.json" ] || return 1
	md_from_json "$d/meta_data.json"
	echo "config-drive:$dev" > "$MD/source"
}

# One HTTP GET into a file; busybox wget has no working -T here, so bound it with timeout.
# $MD/wget.err keeps the error: "server returned error" means the service answered.
md_get() {
	rm -f "$2.part"
	timeout "${3:-3}" wget -q -O "$2.part" "$MD_URL/$1" 2>"$MD/wget.err" && mv "$2.part" "$2"
	rc=$?
	rm -f "$2.part"
	return $rc
}

md_http() {
	# The metadata service needs an address and a route to it: DHCP has to be done.
	[ -n "$DHCP_JOB" ] && { wait "$DHCP_JOB" || say "no DHCP lease on eth0"; DHCP_JOB=""; }
	ip -4 route get 169.254.169.254 >/dev/null 2>&1 || return 1
	tries=${NEPHOS_MD_TRIES:-10}
	i=0
	while [ $i -lt "$tries" ]; do
		if md_get openstack/latest/meta_data.json "$MD/meta_data.json"; then
			md_get openstack/latest/user_data "$MD/user_data" || rm -f "$MD/user_data"
			md_from_json
			echo "http-openstack" > "$MD/source"
			return 0
		fi
		# A service that answered but has no OpenStack tree: try its EC2 paths.
		if grep -q 'server returned error' "$MD/wget.err" && md_get latest/meta-data/instance-id "$MD/instance-id"; then
			md_get latest/meta-data/hostname "$MD/hostname"
			md_get latest/meta-data/public-keys/0/openssh-key "$MD/keys" || : > "$MD/keys"
			md_get latest/user-data "$MD/user_data" || rm -f "$MD/user_data"
			mv "$MD/instance-id" "$MD/uuid"
			echo "http-ec2" > "$MD/source"
			return 0
		fi
		i=$((i + 1))
		sleep 1
	done
	return 1
}

md_fetch() {
	md_config_drive || md_http
}

# After the boot-complete line: the config drive's files into $MD, the drive unmounted.
md_finish() {
	[ -n "$CONFIG_MOUNTED" ] || return 0
	d=/mnt/config/openstack/latest
	if [ ! -f "$d/meta_data.json" ]; then :
	elif [ -f "$d/user_data" ]; then cp "$d/meta_data.json" "$d/user_data" "$MD/"; else cp "$d/meta_data.json" "$MD/"; fi
	umount /mnt/config && CONFIG_MOUNTED=""
}
