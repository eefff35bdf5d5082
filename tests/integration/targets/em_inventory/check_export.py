# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check `ansible-inventory --list [--export]` JSON the way AWX's inventory import reads it.

Usage: python check_export.py LISTING_JSON...

AWX runs `ansible-inventory --list --export` and stores `_meta.hostvars` as
they are. Every host variable value must be a plain JSON value (string,
number, boolean, null, list or object of those): never the
`{"__ansible_unsafe": ...}` object ansible-core 2.19+ writes for text it does
not trust - except for text that Ansible could read as a template (it holds
a brace, or starts with `#jinja2:`), which must be exactly that object, the
only form in which it stays untemplated when Ansible reads it back. Nothing
in the listing may show that a template ran (the output of `id`).
"""

import json
import sys


def may_be_template(text):
    """The test's own statement of the rule: a brace anywhere, or a #jinja2: first line."""
    return '{' in text or '}' in text or text.startswith('#jinja2:')


def problems_of(value, path):
    if isinstance(value, dict):
        if '__ansible_unsafe' in value:
            text = value['__ansible_unsafe']
            if list(value) != ['__ansible_unsafe'] or not isinstance(text, str):
                return ['{0}: a malformed unsafe value {1!r}'.format(path, value)]
            if not may_be_template(text):
                return ['{0}: plain text {1!r} is written as {{"__ansible_unsafe": ...}}'.format(path, text)]
            return []
        found = []
        for key, item in value.items():
            found.extend(problems_of(item, '{0}.{1}'.format(path, key)))
        return found
    if isinstance(value, list):
        found = []
        for index, item in enumerate(value):
            found.extend(problems_of(item, '{0}[{1}]'.format(path, index)))
        return found
    if isinstance(value, str) and may_be_template(value):
        return ['{0}: text Ansible could template, {1!r}, is not marked unsafe'.format(path, value)]
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return ['{0}: {1!r} is not a JSON value'.format(path, value)]
    return []


def main():
    problems = []
    for name in sys.argv[1:]:
        with open(name, encoding='utf-8') as handle:
            text = handle.read()
        listing = json.loads(text)
        hostvars = listing['_meta']['hostvars']
        if not hostvars:
            problems.append('{0}: no hosts'.format(name))
        for host, variables in hostvars.items():
            problems.extend('{0}: {1}'.format(name, p) for p in problems_of(variables, host))
        if 'uid=' in text:
            problems.append('{0}: a template ran: the output of id is in the listing'.format(name))
        unsafe = text.count('"__ansible_unsafe"')
        print('{0}: {1} hosts, {2} values marked unsafe'.format(name, len(hostvars), unsafe))
    for problem in problems[:50]:
        print(problem)
    print('{0} problem(s)'.format(len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
