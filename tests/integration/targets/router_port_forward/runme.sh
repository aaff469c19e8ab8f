#!/usr/bin/env bash
# This API family's modules against the lab: converge, then the same tasks again changing nothing.
set -euo pipefail
# shellcheck disable=SC1091  # ansible-test puts setup_lab beside this target (needs/target/setup_lab)
source ../setup_lab/lab.sh
ansible-playbook -i "$LAB_INVENTORY" main.yml "$@"
