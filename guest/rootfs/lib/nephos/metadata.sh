# Instance metadata, sourced by /etc/nephos/boot. Fills $MD (a directory) with:
#   meta_data.json (OpenStack form, when the source has it), meta.flat (its flattened form,
#   see json.awk), user_data (when present), hostname, uuid, keys (one per line), source.
# Sources, first found wins: a config drive (label config-2, ISO 9660 or VFAT), then the
# OpenStack metadata service at 169.254.169.254, then its EC2-compatible paths.
MD=/run/nephos/metadata
MD_URL=http://169.254.169.254
mkdir -p "$MD"

md_flat() { awk -F'\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print; exit }' "$MD/meta.flat"; }

# Values from the OpenStack meta_data.json: hostname (else name), uuid, public keys.
md_from_json() {
	awk -f /lib/nephos/json.awk "$MD/meta_data.json" > "$MD/meta.flat" 2>/dev/null
	h=$(md_flat hostname); [ -n "$h" ] || h=$(md_flat name)
	echo "$h" > "$MD/hostname"
	md_flat uuid > "$MD/uuid"
	awk -F'\t' '$1 ~ /^public_keys\./ { sub(/^[^\t]*\t/, ""); print }' "$MD/meta.flat" > "$MD/keys"
	[ -s "$MD/keys" ] || awk -F'\t' '$1 ~ /^keys\.[0-9]+\.data$/ { sub(/^[^\t]*\t/, ""); print }' "$MD/meta.flat" > "$MD/keys"
}

md_find_label() { findfs LABEL=config-2 2>/dev/null || findfs LABEL=CONFIG-2 2>/dev/null; }

# The config drive: a block device labelled config-2. A CD-ROM on the IDE controller shows up
# only once the drivers loading in the background ($IDE_JOB, see boot) are done.
md_config_drive() {
	dev=$(md_find_label)
	if [ -z "$dev" ] && [ -n "$IDE_JOB" ]; then
		wait "$IDE_JOB"
		IDE_JOB=""
		dev=$(md_find_label)
	fi
	[ -n "$dev" ] || return 1
	mkdir -p /mnt/config
	mount -t iso9660 -o ro "$dev" /mnt/config 2>/dev/null || mount -t vfat -o ro "$dev" /mnt/config 2>/dev/null || return 1
	ok=1
	if [ -f /mnt/config/openstack/latest/meta_data.json ]; then
		cp /mnt/config/openstack/latest/meta_data.json "$MD/meta_data.json"
		[ -f /mnt/config/openstack/latest/user_data ] && cp /mnt/config/openstack/latest/user_data "$MD/user_data"
		md_from_json
		echo "config-drive:$dev" > "$MD/source"
	else
		ok=0
	fi
	umount /mnt/config
	[ $ok = 1 ]
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
