#!/usr/bin/env bash
# make docs: the collection's docs site in build/docsite/build/html, from the installed collection (make collection)
# with antsibull-docs and Sphinx in their own venv. Fails on any problem antsibull-docs' lint finds and on any Sphinx
# warning but two kinds that need the network: Ansible's own docs (intersphinx) cannot be reached from CI, so its
# labels (common_return_values, ansible_configuration_settings, and action_plugins, which antsibull-docs links from
# every module that has an action plugin) stay unresolved.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/docs-venv
site=build/docsite
if [ ! -f "$venv/.installed" ] || [ tests/docs/constraints.txt -nt "$venv/.installed" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -c tests/docs/constraints.txt -r tests/docs/requirements.txt
  touch "$venv/.installed"
fi
export PATH="$PWD/$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$PWD/build/collections"
antsibull-docs lint-collection-docs --plugin-docs build/collections/ansible_collections/homelab/nas
rm -rf "$site" && mkdir -m 0755 "$site"
antsibull-docs sphinx-init --use-current --dest-dir "$site" homelab.nas >/dev/null
# The generated build.sh, without -W: the warnings are judged below. NO_COLOR: a CI that sets FORCE_COLOR would
# otherwise wrap Sphinx's lines in escape codes; they are stripped as well, in case some tool ignores NO_COLOR.
sed -i 's/ -W --keep-going//' "$site/build.sh"
NO_COLOR=1 bash "$site/build.sh" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' > "$site/build.log" || { cat "$site/build.log"; exit 1; }
offline="^build succeeded|undefined label: '(common_return_values|ansible_configuration_settings|action_plugins)'|failed to reach any of the inventories|intersphinx inventory"
if grep -i "warning" "$site/build.log" | grep -Eiv "$offline"; then
  echo "FAIL: the docs site built with the warnings above" >&2
  exit 1
fi
test -f "$site/build/html/collections/homelab/nas/index.html"
echo "docs site: $site/build/html/index.html"
