#!/bin/sh
# The manual page must be clean under mandoc's linter (warnings and up).
set -eu
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed: as root, scripts/install-deps.sh test installs it (make test runs it)"; exit 1; }
status=0
for page in man/*.[1-9]; do
	if mandoc -Tlint -W warning "$page"; then
		echo "$page: clean"
	else
		status=1
	fi
done
exit "$status"
