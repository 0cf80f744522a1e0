#!/usr/bin/env bash
# Records golden traces of the reference client against icf's Instagram simulator:
#   crates/instagram/tests/golden/record.sh [VERSION]          writes tests/golden/instagrapi-VERSION/
#   crates/instagram/tests/golden/record.sh [VERSION] --check  only checks that every scenario passes
#   crates/instagram/tests/golden/record.sh [VERSION] --only=a,b  records these scenarios only,
#                                                               keeping the other traces as they are
# VERSION defaults to the pinned one (3.2.2). instagrapi is installed from PyPI into a throwaway
# virtualenv (nothing of it is committed); the simulator is icf's own, started in proxy mode so
# instagrapi runs unmodified: its own hosts, a proxy, one trusted certificate.
# Needs python3 (with venv), ffmpeg, and cargo (or ICF_BIN pointing at a built icf).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
version=3.2.2
check=0
only=()
for a in "$@"; do
  case "$a" in
    --check) check=1 ;;
    --only=*) IFS=, read -ra only <<< "${a#--only=}" ;;
    *) version=$a ;;
  esac
done

venv=${ICF_INSTAGRAPI_VENV:-/var/tmp/icf-instagrapi-$version}
if ! "$venv/bin/python" -c "import instagrapi, moviepy" 2>/dev/null; then
  python3 -m venv "$venv"
  # With its video extras and MoviePy, as instagrapi's docs say: carousels with a video
  # need them to make the video's thumbnail.
  "$venv/bin/pip" install --quiet "instagrapi[video]==$version"
  "$venv/bin/pip" install --quiet --no-deps "moviepy==2.2.1"
fi
got=$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("instagrapi"))')
[ "$got" = "$version" ] || { echo "the virtualenv $venv has instagrapi $got, not $version"; exit 1; }

if [ -z "${ICF_BIN:-}" ]; then
  (cd "$root" && cargo build --quiet -p icf)
  ICF_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/icf"
fi

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$ICF_BIN" sim instagram --proxy --listen "127.0.0.1:$port" --cert-out "$work/sim.pem" >"$work/sim.log" 2>&1 &
sim=$!
trap 'kill $sim 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do [ -s "$work/sim.pem" ] && break; sleep 0.1; done
[ -s "$work/sim.pem" ] || { cat "$work/sim.log"; echo "the simulator did not start"; exit 1; }

out=()
[ "$check" = 1 ] || out=(--out "$here/instagrapi-$version")
# A full recording replaces every trace; `--only` rewrites just the scenarios it names.
[ "$check" = 1 ] || [ ${#only[@]} -gt 0 ] || rm -rf "$here/instagrapi-$version"
[ ${#only[@]} -eq 0 ] || out+=(--only "${only[@]}")
cd "$work"
# requests prefers these variables to its session's own CA file; point them at the simulator's CA.
export REQUESTS_CA_BUNDLE="$work/sim.pem" CURL_CA_BUNDLE="$work/sim.pem" SSL_CERT_FILE="$work/sim.pem"
"$venv/bin/python" "$here/record.py" --proxy "http://127.0.0.1:$port" --ca "$work/sim.pem" "${out[@]}"
