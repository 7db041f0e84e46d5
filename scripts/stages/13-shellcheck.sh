#!/bin/sh
# Every shell script in the repository: *.sh files plus any tracked file whose
# first line names sh or bash (.ci/run, for one).
set -eu
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "shellcheck not installed: as root, scripts/install-deps.sh test installs it (make test runs it)"
    exit 1
fi
list=$(mktemp)
trap 'rm -f "$list"' EXIT
git ls-files -co --exclude-standard | while IFS= read -r f; do
    [ -f "$f" ] || continue
    case "$f" in
    *.sh) echo "$f" ;;
    *)
        if head -n 1 "$f" 2>/dev/null | grep -Eq '^#!.*(/|env )(ba)?sh([[:space:]]|$)'; then
            echo "$f"
        fi
        ;;
    esac
done >"$list"
[ -s "$list" ] || { echo "no shell scripts found"; exit 1; }
echo "checking $(wc -l <"$list") scripts"
tr '\n' '\0' <"$list" | xargs -0 shellcheck -x
