# Sourced by the install-*.sh scripts that put a pinned Python tool in a
# private venv under .cache for the tests (install-model-signing.sh,
# install-spdx3-validate.sh): one way to check, create and fill the venv.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/venv.sh"
#   venv_check() { "$1" -m tool --help >/dev/null; }   # optional
#   venv_install <name> <venv dir> <package==version>...
#
# venv_install prints the venv's python. When every pinned version is
# already installed it does nothing else; otherwise it creates the venv
# (with $PYTHON, else python3), pip-installs the pins, and runs
# venv_check <python> when the caller defined it, so a tool that cannot
# start fails here, not in a test. Progress goes to stderr.

# venv_pins <python> <package==version>... prints the installed versions
# in the same form, so the caller compares them with what it pinned.
venv_pins() {
	local py="$1"
	shift
	"$py" - "$@" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
print(" ".join(p.split("==")[0] + "==" + version(p.split("==")[0]) for p in sys.argv[1:]))
PY
}

venv_install() {
	local name="$1" venv="$2"
	shift 2
	local py="$venv/bin/python"
	if [[ -x "$py" ]] && [[ "$(venv_pins "$py" "$@" || true)" == "$*" ]]; then
		echo "$py"
		return 0
	fi
	local python="${PYTHON:-$(command -v python3 || true)}"
	if [[ -z "$python" ]]; then
		echo "install-$name: python3 not found" >&2
		return 1
	fi
	mkdir -p "$(dirname "$venv")"
	if [[ ! -x "$py" ]]; then
		"$python" -m venv "$venv" >&2
	fi
	"$py" -m pip install --quiet --disable-pip-version-check "$@" >&2
	if declare -F venv_check >/dev/null; then
		venv_check "$py"
	fi
	echo "$py"
}
