#!/usr/bin/env bash
# clang-format check and clang-tidy (the repo's .clang-format / .clang-tidy)
# over project code. Needs a configured build/ (compile_commands.json).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
files=$(git ls-files 'libs/*.cc' 'libs/*.h' 'services/*.cc' 'tests/*.cc' 'tests/*.h')
clang-format --dry-run --Werror $files
if [ "${1:-}" != "--format-only" ]; then
  clang-tidy -p build --quiet $(echo "$files" | grep '\.cc$')
fi
