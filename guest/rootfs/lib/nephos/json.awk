# Flattens a JSON document into one "path<TAB>value" line per scalar, e.g.
#   {"hostname": "vm1", "public_keys": {"k": "ssh-ed25519 AAAA..."}, "keys": [{"data": "..."}]}
# gives "hostname	vm1", "public_keys.k	ssh-ed25519 AAAA...", "keys.0.data	...".
# Strings are unescaped (\uXXXX is kept as written); newlines and tabs inside a value become
# spaces so that every value stays on its line. Input that is not JSON yields no output.

function unescape(t,    out, i, c) {
	out = ""
	while ((i = index(t, "\\")) > 0) {
		out = out substr(t, 1, i - 1)
		c = substr(t, i + 1, 1)
		if (c == "n" || c == "t" || c == "r") out = out " "
		else if (c == "b" || c == "f") out = out ""
		else if (c == "u") out = out "\\u"
		else out = out c
		t = substr(t, i + 2)
	}
	out = out t
	gsub(/[\t\r\n]/, " ", out)
	return out
}

function path(    p, d) {
	p = ""
	for (d = 1; d <= depth; d++) p = p (d > 1 ? "." : "") key[d]
	return p
}

# Prints one line and keeps it in jp/jv (1..jn) for a program run after this one (instance.awk).
function emit(v) {
	sub(/[ ]+$/, "", v)
	jn++
	jp[jn] = path()
	jv[jn] = v
	print jp[jn] "\t" v
}

{ doc = doc $0 "\n" }

END {
	s = doc
	depth = 0
	while (length(s) > 0) {
		sub(/^[ \t\r\n]+/, "", s)
		if (s == "") break
		c = substr(s, 1, 1)
		if (c == "{" || c == "[") {
			depth++
			kind[depth] = c
			wantkey[depth] = (c == "{")
			key[depth] = (c == "[") ? 0 : ""
			s = substr(s, 2)
		} else if (c == "}" || c == "]") {
			depth--
			s = substr(s, 2)
		} else if (c == ",") {
			if (kind[depth] == "{") wantkey[depth] = 1
			else key[depth]++
			s = substr(s, 2)
		} else if (c == ":") {
			s = substr(s, 2)
		} else if (c == "\"") {
			if (!match(s, /^"([^"\\]|\\.)*"/)) exit 1
			v = unescape(substr(s, 2, RLENGTH - 2))
			s = substr(s, RLENGTH + 1)
			if (kind[depth] == "{" && wantkey[depth]) {
				key[depth] = v
				wantkey[depth] = 0
			} else {
				emit(v)
			}
		} else {
			if (!match(s, /^[^],} \t\r\n]+/)) exit 1
			if (depth > 0) emit(substr(s, 1, RLENGTH))
			s = substr(s, RLENGTH + 1)
		}
		if (depth < 0) exit 1
	}
}
