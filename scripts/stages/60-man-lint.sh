#!/bin/sh
# The manual page must be clean under mandoc's linter (warnings and up).
set -eu
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not installed: skipped"; exit 77; }
status=0
for page in man/*.[1-9]; do
	if mandoc -Tlint -W warning "$page"; then
		echo "$page: clean"
	else
		status=1
	fi
done
exit "$status"
