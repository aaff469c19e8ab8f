#!/usr/bin/env bash
# ansible-test without Docker: a copy of the collection under ansible_collections/homelab/nas (ansible-test
# needs that real path), in venvs of its own (--venv). Usage: tests/ansible_test.sh sanity|units [options]
# (`units` installs tests/unit/requirements.txt, as ansible-test does for any collection).
set -euo pipefail
cd "$(dirname "$0")/.."
# Outside the checkout: inside it, ansible-test would follow .gitignore and see no files.
command=$1
shift
work=${TMPDIR:-/tmp}/homelab-nas-$command/ansible_collections/homelab/nas

# ansible-test downloads get-pip.py from a host this network cannot reach; it accepts a cached copy.
pip_version=$(python - <<'PY'
import os, re, ansible_test
src = open(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")).read()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
cp tests/utils/get_pip_offline.py ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"

rm -rf "$work" && mkdir -p "$work"
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} cp --parents {} "$work"/
cd "$work"
python_version=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ansible-test "$command" --venv --python "$python_version" --color no "$@"
