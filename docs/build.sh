#!/usr/bin/env bash
# Build the collection's HTML documentation site, offline:
#  * antsibull-docs writes the plugin, module and role pages from the code's
#    own DOCUMENTATION (never by hand) and the guides of docs/docsite/rst,
#  * Sphinx renders them with the Ansible theme, every warning an error;
#  * before that, docs/check_messages.py checks that every error message the
#    troubleshooting guide quotes is still one the code can give.
#
# The collection must be on the Ansible collection search path: run it as
#   scripts/in-collection-tree.sh docs/build.sh OUTDIR      (what `make docs` does)
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
docs=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$1

# The troubleshooting guide quotes the code's messages: they must still exist.
(cd "$docs/.." && python docs/check_messages.py)

# antsibull-docs only writes into a folder that only its owner may write to,
# which mktemp -d gives.
site=$(mktemp -d "${TMPDIR:-/tmp}/vbem-docs.XXXXXX")
trap 'rm -rf "$site"' EXIT

antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$site" \
    --project vbem.enterprise_manager --copyright 'vbem.enterprise_manager contributors' \
    --title 'vbem.enterprise_manager' --index-rst-source "$docs/site/index.rst" \
    vbem.enterprise_manager >/dev/null
# No network here: intersphinx would try to download the inventories of the
# Python and Ansible docs, and warn. Without them, links to the Ansible docsite
# (ansible.builtin plugins, common return values, ansible-core's own
# environment variables) cannot resolve: ignore only those, so that a broken
# link to one of our own pages or VEEAM_EM_* variables still fails the build.
cat >>"$site/conf.py" <<'CONF'

intersphinx_mapping = {}
nitpick_ignore_regex = [
    ('std:ref', r'(?!ansible_collections\.vbem\.enterprise_manager\.|docsite_root_index$).*'),
    ('std:envvar', r'(?!VEEAM_EM_).*'),
]
CONF

(
    cd "$site"
    mkdir -p rst
    chmod og-w rst
    antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error \
        --use-current --dest-dir rst vbem.enterprise_manager
    sphinx-build -M html rst build -c . -W --keep-going -q
)
rm -rf "$out"
mkdir -p "$out"
cp -r "$site/build/html/." "$out/"
echo "docs: $(find "$out" -name '*.html' | wc -l) HTML pages in $out (open $out/index.html)"
