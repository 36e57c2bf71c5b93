# Debian packages the tests need (sourced by .ci/run). Installed only when missing.
need=()
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v curl >/dev/null 2>&1 || need+=(curl)  # the README's API walkthrough runs as written (tests/api)
# The browser tests drive Debian's chromium through Playwright (Playwright never downloads a browser here).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
