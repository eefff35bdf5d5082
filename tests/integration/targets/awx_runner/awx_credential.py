# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Validate and inject a custom credential type the way AWX does, without AWX.

AWX is a Django application that cannot run here, so this file re-implements
the two pieces of it that decide what a job sees (read in AWX's sources):

* ``validate``: ``CredentialTypeInputField`` and ``CredentialTypeInjectorField``
  (``awx/main/fields.py``): the shape of ``inputs`` and ``injectors``, and every
  injector template rendered with StrictUndefined over a namespace in which each
  field is ``'EXAMPLE'`` and ``tower.filename`` is ``'EXAMPLE_FILENAME'``;
* ``inject``: ``CredentialType.inject_credential``
  (``awx/main/models/credential/__init__.py``): the namespace holds only the
  non-empty inputs a credential has, boolean fields it lacks are ``False``,
  each ``file`` template is written to a private file under ``env/`` of the
  private data dir and ``tower.filename`` names it as the job sees it, and
  every ``env`` template is rendered in Jinja's immutable sandbox.

Usage:
  awx_credential.py validate TYPE.yml
  awx_credential.py inject TYPE.yml INPUTS.json PRIVATE_DATA_DIR JOB_DATA_DIR
      Renders the credential into PRIVATE_DATA_DIR/env/envvars (merged with any
      variables already there) and prints the environment it injected, with
      secret fields masked as AWX stores it (the job's ``job_env``). File
      paths are given as JOB_DATA_DIR/env/<file>: where the job will see the
      private data dir (AWX: /runner in the execution environment; here, the
      folder ``ansible-runner worker --private-data-dir`` unpacks into).
"""

import json
import os
import re
import stat
import sys
import tempfile

import yaml
from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIELD_KEYS = {'id', 'label', 'type', 'help_text', 'multiline', 'secret', 'ask_at_runtime', 'default', 'format', 'choices'}
STRING_ONLY_KEYS = ('choices', 'multiline', 'format', 'secret')
NAME = re.compile(r'^[a-zA-Z_]+[a-zA-Z0-9_]*$')
FILE_KEY = re.compile(r'^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$')
SECRET_MASK = '**********'


class Namespace(object):
    """AWX's TowerNamespace: an object whose attributes templates read."""


def validate(credential_type):
    """Return the problems AWX would refuse the type for (empty when it would accept it)."""
    problems = []
    inputs = credential_type.get('inputs') or {}
    injectors = credential_type.get('injectors') or {}
    if set(inputs) - {'fields', 'required'}:
        problems.append('inputs may hold only fields and required, not %s' % sorted(set(inputs) - {'fields', 'required'}))
    ids = []
    for field in inputs.get('fields', []):
        unknown = set(field) - FIELD_KEYS
        if unknown:
            problems.append('field %s has keys AWX does not know: %s' % (field.get('id'), sorted(unknown)))
        if 'id' not in field or 'label' not in field:
            problems.append('every field needs id and label: %r' % field)
            continue
        if not NAME.match(field['id']) or field['id'] == 'tower':
            problems.append('%s is not a valid field id' % field['id'])
        if field['id'] in ids:
            problems.append('field IDs must be unique (%s)' % field['id'])
        ids.append(field['id'])
        kind = field.get('type', 'string')
        if kind not in ('string', 'boolean'):
            problems.append('field %s has type %s; AWX knows string and boolean' % (field['id'], kind))
            continue
        if 'default' in field and not isinstance(field['default'], {'string': str, 'boolean': bool}[kind]):
            problems.append('the default of %s is not a %s' % (field['id'], kind))
        for key in STRING_ONLY_KEYS:
            if key in field and kind != 'string':
                problems.append('%s not allowed for %s type (%s)' % (key, kind, field['id']))
    for name in inputs.get('required', []):
        if name not in ids:
            problems.append('required names %s, which is not a field' % name)
    if set(injectors) - {'file', 'env', 'extra_vars'}:
        problems.append('injectors may hold only file, env and extra_vars')
    for key in injectors.get('file', {}):
        if not FILE_KEY.match(key):
            problems.append('file injector key %s is neither template nor template.<name>' % key)
    for key, template in injectors.get('env', {}).items():
        if not NAME.match(key):
            problems.append('%s is not a valid environment variable name' % key)
        if key.startswith('ANSIBLE_'):
            problems.append('Environment variable %s may affect Ansible configuration so its use is not allowed in credentials.' % key)
        if not all(ord(char) < 128 for char in template):
            problems.append('the template of %s is not ASCII' % key)

    # Every template against a namespace where every field exists.
    namespace = dict((field_id, 'EXAMPLE') for field_id in ids)
    tower = Namespace()
    file_keys = list(injectors.get('file', {}))
    if 'template' in file_keys:
        tower.filename = 'EXAMPLE_FILENAME'
        if len(file_keys) > 1:
            problems.append('Must use multi-file syntax when injecting multiple files')
    elif file_keys:
        tower.filename = Namespace()
        for key in file_keys:
            setattr(tower.filename, key.split('.')[1], 'EXAMPLE_FILENAME')
    namespace['tower'] = tower
    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    for kind, injector in injectors.items():
        for key, template in injector.items():
            try:
                environment.from_string(template).render(namespace)
            except (UndefinedError, SecurityError, TemplateSyntaxError) as exc:
                problems.append('%s %s: %s' % (kind, key, exc))
    return problems


def inject(credential_type, inputs, private_data_dir, job_data_dir):
    """Render the credential; return ``(env, safe_env)`` as AWX would, writing file injectors under env/."""
    fields = credential_type['inputs'].get('fields', [])
    secret = set(field['id'] for field in fields if field.get('secret'))
    namespace, safe_namespace = {}, {}
    for name, value in inputs.items():
        if isinstance(value, bool):
            namespace[name] = safe_namespace[name] = value
            continue
        if name in secret:
            safe_namespace[name] = SECRET_MASK
        elif len(value):
            safe_namespace[name] = value
        if len(value):
            namespace[name] = value
    for field in fields:
        if field.get('type', 'string') == 'boolean' and field['id'] not in inputs:
            namespace[field['id']] = safe_namespace[field['id']] = False

    tower = Namespace()
    namespace['tower'] = safe_namespace['tower'] = tower
    environment = ImmutableSandboxedEnvironment()
    env_dir = os.path.join(private_data_dir, 'env')
    if not os.path.isdir(env_dir):
        os.makedirs(env_dir)
    for label, template in credential_type['injectors'].get('file', {}).items():
        handle, path = tempfile.mkstemp(dir=env_dir)
        with os.fdopen(handle, 'w') as stream:
            stream.write(environment.from_string(template).render(**namespace))
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        job_path = os.path.join(job_data_dir, 'env', os.path.basename(path))
        if '.' not in label:
            tower.filename = job_path
        else:
            if not hasattr(tower, 'filename'):
                tower.filename = Namespace()
            setattr(tower.filename, label.split('.')[1], job_path)

    env, safe_env = {}, {}
    for name, template in credential_type['injectors'].get('env', {}).items():
        env[name] = environment.from_string(template).render(**namespace)
        safe_env[name] = environment.from_string(template).render(**safe_namespace)
    return env, safe_env


def main(argv):
    """Command line: see the module docstring."""
    with open(argv[2]) as stream:
        credential_type = yaml.safe_load(stream)
    if argv[1] == 'validate' and len(argv) == 3:
        problems = validate(credential_type)
        for problem in problems:
            print('AWX would refuse the credential type: ' + problem, file=sys.stderr)
        if not problems:
            print('credential type: AWX would accept it')
        return 1 if problems else 0
    if argv[1] == 'inject' and len(argv) == 6:
        with open(argv[3]) as stream:
            inputs = json.load(stream)
        env, safe_env = inject(credential_type, inputs, argv[4], argv[5])
        envvars = os.path.join(argv[4], 'env', 'envvars')
        merged = {}
        if os.path.exists(envvars):
            with open(envvars) as stream:
                merged = yaml.safe_load(stream) or {}
        merged.update(env)
        with open(envvars, 'w') as stream:
            yaml.safe_dump(merged, stream, default_flow_style=False)
        print(json.dumps(safe_env, sort_keys=True))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
