# Run after json.awk in the same awk (awk -v md=DIR -f json.awk -f instance.awk FILE): from the
# flattened OpenStack meta_data.json (json.awk's jn/jp/jv arrays) writes DIR/hostname (else the
# name), DIR/uuid and DIR/keys (the public keys, one per line; else the "keys" list's data).
END {
	for (i = 1; i <= jn; i++) {
		p = jp[i]
		if (p == "hostname") h = jv[i]
		else if (p == "name") n = jv[i]
		else if (p == "uuid") u = jv[i]
		else if (p ~ /^public_keys\./) pk = pk jv[i] "\n"
		else if (p ~ /^keys\.[0-9]+\.data$/) kd = kd jv[i] "\n"
	}
	print (h != "" ? h : n) > (md "/hostname")
	print u > (md "/uuid")
	printf "%s", (pk != "" ? pk : kd) > (md "/keys")
}
