# bench/fidelity/lib/debian.sh: installing an app's Debian packages, for app.sh scripts.
# Source it after setting PKGS (the packages) and defining die; then call have_pkgs and
# install_pkgs. python3 and curl are checked too (the flows and waits need them).

have_pkgs() {
	local p
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || return 1
	done
	command -v python3 >/dev/null && command -v curl >/dev/null || return 1
}

# install_pkgs: apt-get install PKGS; a machine that never ran apt-get update has no
# package lists, so update once if the first try fails.
install_pkgs() {
	have_pkgs && return 0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PKGS >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PKGS >/dev/null 2>&1; } ||
		die "apt-get install $PKGS failed (is the Debian archive reachable? run apt-get update)"
	have_pkgs || die "a package of: $PKGS (or python3, curl) is missing after apt-get install"
}
