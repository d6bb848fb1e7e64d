#!/usr/bin/env bash
# Checks a package built by packaging/build-deb.sh, as an admin would find it installed:
#   packaging/check-deb.sh DEB
# Its file list and control data (every expected path, the conffile, version, architecture,
# Depends, maintainer scripts), then, extracted into a scratch root: the binary's version,
# the man pages, the completions (naming every subcommand of --help) and the unit
# (systemd-analyze verify). A tool missing for a check is said loudly and the check
# skipped; under CI=true (.ci/run, which installs them) it fails instead.
# Fails naming everything that is missing or wrong.
set -euo pipefail

deb=${1:?usage: packaging/check-deb.sh DEB}
[ -f "$deb" ] || { echo "check-deb.sh: $deb: no such file" >&2; exit 1; }
repo=$(cd "$(dirname "$0")/.." && pwd)
problems=()
problem() { problems+=("$*"); }
skip() {
    if [ "${CI:-}" = true ]; then
        problem "$1 is not installed (needed for: $2)"
    else
        echo "*** SKIPPED check-deb.sh: $2: $1 is not installed ***" >&2
    fi
}

version=$(awk '/^\[/ { p = ($0 == "[package]") } p && /^version *=/ { gsub(/"/, "", $3); print $3; exit }' "$repo/Cargo.toml")
arch=$(dpkg --print-architecture)

# The file list: path, mode and owner of each.
listing=$(dpkg-deb -c "$deb")
paths=$(awk '{ print $6 }' <<<"$listing" | sed 's|^\./|/|; s|/$||')
has() { grep -qxF -- "$1" <<<"$paths"; }
for p in /usr/bin/seatmeter /lib/systemd/system/seatmeter.service /etc/seatmeter/seatmeter.toml \
    /usr/share/man/man1/seatmeter.1.gz /usr/share/man/man1/seatmeter-report.1.gz \
    /usr/share/man/man1/seatmeter-serve.1.gz \
    /usr/share/bash-completion/completions/seatmeter /usr/share/zsh/vendor-completions/_seatmeter \
    /usr/share/fish/vendor_completions.d/seatmeter.fish \
    /usr/share/doc/seatmeter/copyright /usr/share/doc/seatmeter/README.md.gz; do
    has "$p" || problem "the package lacks $p"
done
mode_of() { awk -v p="./${1#/}" '$6 == p { print $1, $2 }' <<<"$listing"; }
[ "$(mode_of /usr/bin/seatmeter)" = "-rwxr-xr-x root/root" ] \
    || problem "/usr/bin/seatmeter is '$(mode_of /usr/bin/seatmeter)', not -rwxr-xr-x root/root"
[ "$(mode_of /etc/seatmeter/seatmeter.toml)" = "-rw-r----- root/root" ] \
    || problem "/etc/seatmeter/seatmeter.toml is '$(mode_of /etc/seatmeter/seatmeter.toml)', not -rw-r----- root/root (postinst gives it the group)"
if awk '{ print $2 }' <<<"$listing" | grep -qv '^root/root$'; then
    problem "files not owned by root/root: $(awk '$2 != "root/root" { print $6 }' <<<"$listing" | tr '\n' ' ')"
fi

# The control data.
info=$(dpkg-deb -I "$deb")
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = seatmeter ] || problem "Package is '$(field Package)', not seatmeter"
[ "$(field Version)" = "${version//-/\~}" ] || problem "Version is '$(field Version)', Cargo.toml says $version"
[ "$(field Architecture)" = "$arch" ] || problem "Architecture is '$(field Architecture)', dpkg says $arch"
grep -Eq '(^|, )libc6( |,|$)' <<<"$(field Depends)" || problem "Depends '$(field Depends)' lacks libc6"
for member in control conffiles postinst prerm postrm; do
    grep -Eq "^ +[0-9]+ bytes, +[0-9]+ lines +\*? *$member( |$)" <<<"$info" || problem "the control archive lacks $member"
done
dpkg-deb -I "$deb" conffiles 2>/dev/null | grep -qxF /etc/seatmeter/seatmeter.toml \
    || problem "/etc/seatmeter/seatmeter.toml is not a conffile"
control=$(mktemp -d)
dpkg-deb -e "$deb" "$control"
for script in postinst prerm postrm; do
    [ -f "$control/$script" ] || continue
    sh -n "$control/$script" 2>/dev/null || problem "$script does not parse: $(sh -n "$control/$script" 2>&1)"
    grep -qx 'set -e' "$control/$script" || problem "$script lacks set -e"
done
rm -rf "$control"

# Extracted: what the files do.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dpkg-deb -x "$deb" "$scratch"
bin="$scratch/usr/bin/seatmeter"
if [ -x "$bin" ]; then
    got=$("$bin" --version) || got="(failed)"
    [ "$got" = "seatmeter $version" ] || problem "seatmeter --version says '$got', Cargo.toml says $version"
    commands=$("$bin" --help | awk '/^Commands:/ { c = 1; next } c && /^$/ { exit } c && /^  [a-z]/ { print $1 }' | grep -vx help || true)
    [ -n "$commands" ] || problem "seatmeter --help lists no subcommands"
    for c in $commands; do
        [ -s "$scratch/usr/share/man/man1/seatmeter-$c.1.gz" ] || problem "no man page seatmeter-$c.1.gz for the subcommand $c"
    done
else
    problem "the extracted /usr/bin/seatmeter is not executable"
    commands=
fi
pages=0
for page in "$scratch"/usr/share/man/man1/*.gz; do
    [ -e "$page" ] || continue
    pages=$((pages + 1))
    first=$(gunzip -c "$page" | sed -n 1p) || first=
    [[ $first == ".TH "* ]] || problem "$(basename "$page") does not start with .TH (it starts '$first')"
done
[ "$pages" -gt 0 ] || problem "no man pages in /usr/share/man/man1"
if command -v man >/dev/null && command -v nroff >/dev/null; then
    text=$(MANWIDTH=80 man -l "$scratch/usr/share/man/man1/seatmeter-report.1.gz" 2>&1) \
        || problem "man -l seatmeter-report.1.gz failed: $text"
    grep -q -- '--granularity' <<<"$text" || problem "man -l seatmeter-report.1.gz does not show --granularity"
else
    skip "man (man-db, groff-base)" "formatting a man page with man -l"
fi
for f in usr/share/bash-completion/completions/seatmeter usr/share/zsh/vendor-completions/_seatmeter \
    usr/share/fish/vendor_completions.d/seatmeter.fish; do
    if [ ! -s "$scratch/$f" ]; then
        problem "/$f is missing or empty"
        continue
    fi
    missing=
    for c in $commands; do
        grep -qw -- "$c" "$scratch/$f" || missing="$missing $c"
    done
    [ -z "$missing" ] || problem "/$f does not name the subcommand(s)$missing"
done

# The unit, against the binary it starts: a copy whose ExecStart= names the extracted
# binary (systemd-analyze checks that it is executable; with --root it would want a whole
# systemd in the scratch root). Any output (an unknown key, a bad value) is a problem.
unit="$scratch/lib/systemd/system/seatmeter.service"
if [ ! -f "$unit" ]; then
    :
elif ! grep -qx 'ExecStart=/usr/bin/seatmeter .*' "$unit"; then
    problem "seatmeter.service does not start /usr/bin/seatmeter: $(grep '^ExecStart=' "$unit")"
elif command -v systemd-analyze >/dev/null; then
    mkdir "$scratch/verify"
    sed "s|^ExecStart=/usr/bin/seatmeter|ExecStart=$bin|" "$unit" >"$scratch/verify/seatmeter.service"
    if ! out=$(systemd-analyze verify "$scratch/verify/seatmeter.service" 2>&1) || [ -n "$out" ]; then
        problem "systemd-analyze verify seatmeter.service: $out"
    fi
else
    skip "systemd-analyze (systemd)" "verifying seatmeter.service"
fi

if [ ${#problems[@]} -gt 0 ]; then
    echo "check-deb.sh: $deb has ${#problems[@]} problem(s):" >&2
    printf '  - %s\n' "${problems[@]}" >&2
    exit 1
fi
size=$(stat -c %s "$deb")
files=$(grep -vc '^d' <<<"$listing")
echo "check-deb.sh: $deb is fine: $files files, $((size / 1024)) KiB, $pages man pages, version $version ($arch)"
