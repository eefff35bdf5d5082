# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Try the collection's AWX credential type without AWX.

Renders a custom credential type the way AWX does and, with ``run``, runs a
playbook with it through ansible-runner, the engine AWX runs every job with.
The collection's awx_runner and awx_slicing integration tests use this very
script, and the AWX guide documents it.

AWX is a Django application, so this file re-implements the pieces of it that
decide what a job sees (read in AWX's sources):

* ``validate``: ``CredentialTypeInputField`` and ``CredentialTypeInjectorField``
  (``awx/main/fields.py``): the shape of ``inputs`` and ``injectors``, and every
  injector template rendered with StrictUndefined over a namespace in which each
  field is ``'EXAMPLE'`` and ``tower.filename`` is ``'EXAMPLE_FILENAME'``;
* ``inject``: ``CredentialType.inject_credential``
  (``awx/main/models/credential/__init__.py``): the namespace holds only the
  non-empty inputs a credential has, boolean fields it lacks are ``False``
  (so a boolean renders as ``True`` or ``False``), an optional field left
  empty renders as an empty string, each ``file`` template is written to a
  private file under ``env/`` of the private data dir and ``tower.filename``
  names it as the job sees it, every ``env`` template is rendered in Jinja's
  immutable sandbox, and ``extra_vars`` templates become extra variables.

Usage:
  python try_credential.py validate TYPE.yml
  python try_credential.py inject TYPE.yml INPUTS.json PRIVATE_DATA_DIR JOB_DATA_DIR
      Renders the credential into PRIVATE_DATA_DIR/env/envvars (and
      env/extravars for extra_vars injectors), merged with what is already
      there, and prints the environment it injected with secret fields masked
      as AWX stores it (the job's ``job_env``). File paths are given as
      JOB_DATA_DIR/env/<file>: where the job will see the private data dir
      (AWX: /runner in the execution environment; the folder
      ``ansible-runner worker --private-data-dir`` unpacks into).
  python try_credential.py run TYPE.yml INPUTS.json PLAYBOOK -i INVENTORY
                               [-e VARS.json|VARS.yml]... [-l LIMIT]
                               [--private-data-dir DIR]
      A job as AWX runs it: validates the type, renders the credential, and
      runs PLAYBOOK (from its own folder, the project) with
      ``ansible-runner run`` over INVENTORY with the extra variables; prints
      the job's status, return code and set_stats artifacts, and exits with
      the playbook's return code.  No VEEAM_EM_* variable of this shell
      reaches the job: only the credential does.  Without
      --private-data-dir the private data dir is a temporary folder removed
      at the end, because ansible-runner's artifacts/<job>/command holds the
      injected environment, password included; with it, the folder is kept
      (protect or delete it).

INPUTS.json holds the credential's fields as AWX would store them, for
example {"url": "https://em.example.com", "username": "svc", "password":
"...", "ca_certificate": "-----BEGIN CERTIFICATE-----..."}.
"""

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
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
    """Render the credential; return ``(env, safe_env, extra_vars)`` as AWX would, writing file injectors under env/."""
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

    env, safe_env, extra_vars = {}, {}, {}
    for name, template in credential_type['injectors'].get('env', {}).items():
        env[name] = environment.from_string(template).render(**namespace)
        safe_env[name] = environment.from_string(template).render(**safe_namespace)
    for name, template in credential_type['injectors'].get('extra_vars', {}).items():
        extra_vars[name] = environment.from_string(template).render(**namespace)
    return env, safe_env, extra_vars


def merge_yaml(path, values):
    """Merge values into the YAML mapping in path (created when missing)."""
    merged = {}
    if os.path.exists(path):
        with open(path) as stream:
            merged = yaml.safe_load(stream) or {}
    merged.update(values)
    with open(path, 'w') as stream:
        yaml.safe_dump(merged, stream, default_flow_style=False)


def render_into(credential_type, inputs, private_data_dir, job_data_dir):
    """inject, and write what it rendered into env/envvars and env/extravars; return safe_env."""
    env, safe_env, extra_vars = inject(credential_type, inputs, private_data_dir, job_data_dir)
    merge_yaml(os.path.join(private_data_dir, 'env', 'envvars'), env)
    if extra_vars:
        merge_yaml(os.path.join(private_data_dir, 'env', 'extravars'), extra_vars)
    return safe_env


def load_yaml(path):
    """A JSON or YAML document from a file (JSON is YAML)."""
    with open(path) as stream:
        return yaml.safe_load(stream)


def job_artifacts(artifact_dir):
    """The set_stats data of a finished job, as AWX stores it in the job's artifacts."""
    event_dir = os.path.join(artifact_dir, 'job_events')
    for name in sorted(os.listdir(event_dir)) if os.path.isdir(event_dir) else []:
        with open(os.path.join(event_dir, name)) as stream:
            event = json.load(stream)
        if event.get('event') == 'playbook_on_stats':
            return event.get('event_data', {}).get('artifact_data') or {}
    return {}


def run(args):
    """The run command: see the module docstring."""
    credential_type = load_yaml(args.type)
    problems = validate(credential_type)
    if problems:
        for problem in problems:
            print('AWX would refuse the credential type: ' + problem, file=sys.stderr)
        return 2
    inputs = load_yaml(args.inputs)
    if not isinstance(inputs, dict):
        print('%s does not hold the credential fields as a JSON object' % args.inputs, file=sys.stderr)
        return 2
    playbook = os.path.abspath(args.playbook)
    if not os.path.isfile(playbook):
        print('no playbook at %s' % args.playbook, file=sys.stderr)
        return 2
    extra_vars = {}
    for path in args.extra_vars:
        values = load_yaml(path)
        if not isinstance(values, dict):
            print('%s does not hold a mapping of extra variables' % path, file=sys.stderr)
            return 2
        extra_vars.update(values)

    try:
        import ansible_runner  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        print('ansible-runner is not installed for %s; install it with: %s -m pip install ansible-runner' % (
            sys.executable, sys.executable), file=sys.stderr)
        return 2

    keep = args.private_data_dir is not None
    private = os.path.abspath(args.private_data_dir) if keep else tempfile.mkdtemp(prefix='try-credential-')
    try:
        os.makedirs(os.path.join(private, 'env'), exist_ok=True)
        # AWX: the job's extra variables, then the credential's extra_vars.
        merge_yaml(os.path.join(private, 'env', 'extravars'), extra_vars)
        safe_env = render_into(credential_type, inputs, private, private)
        print('credential injected: %s' % json.dumps(safe_env, sort_keys=True))
        environment = dict((name, value) for name, value in os.environ.items() if not name.startswith('VEEAM_EM_'))
        command = [sys.executable, '-m', 'ansible_runner', 'run', private, '--ident', 'job',
                   '--project-dir', os.path.dirname(playbook), '-p', os.path.basename(playbook),
                   '--inventory', os.path.abspath(args.inventory)]
        if args.limit:
            command += ['--limit', args.limit]
        returncode = subprocess.call(command, env=environment)
        artifact_dir = os.path.join(private, 'artifacts', 'job')
        status = rc = None
        if os.path.exists(os.path.join(artifact_dir, 'status')):
            with open(os.path.join(artifact_dir, 'status')) as stream:
                status = stream.read().strip()
            with open(os.path.join(artifact_dir, 'rc')) as stream:
                rc = int(stream.read().strip())
        if rc is None:
            print('ansible-runner wrote no status (it exited %d)' % returncode, file=sys.stderr)
            return returncode or 1
        print('job status: %s, rc %d' % (status, rc))
        print('job artifacts (set_stats): %s' % json.dumps(job_artifacts(artifact_dir), sort_keys=True))
        if keep:
            print('private data dir kept: %s (artifacts/job/command holds the password)' % private)
        return rc
    finally:
        if not keep:
            shutil.rmtree(private, ignore_errors=True)


def main(argv):
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(prog='try_credential.py', description=__doc__.split('\n\n', maxsplit=1)[0])
    commands = parser.add_subparsers(dest='command')
    command = commands.add_parser('validate', help='would AWX accept the credential type?')
    command.add_argument('type')
    command = commands.add_parser('inject', help='render a credential into a private data dir')
    for name in ('type', 'inputs', 'private_data_dir', 'job_data_dir'):
        command.add_argument(name)
    command = commands.add_parser('run', help='run a playbook with the credential through ansible-runner')
    command.add_argument('type')
    command.add_argument('inputs')
    command.add_argument('playbook')
    command.add_argument('-i', '--inventory', required=True)
    command.add_argument('-e', '--extra-vars', action='append', default=[], metavar='VARS_FILE')
    command.add_argument('-l', '--limit')
    command.add_argument('--private-data-dir')
    args = parser.parse_args(argv[1:])
    try:
        return command_of(parser, args)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        # A file that is missing or not JSON/YAML: one sentence, no traceback.
        print('try_credential.py %s: %s' % (args.command, ' '.join(str(exc).split())), file=sys.stderr)
        return 2


def command_of(parser, args):
    """Run the command parsed from the command line."""
    if args.command == 'validate':
        problems = validate(load_yaml(args.type))
        for problem in problems:
            print('AWX would refuse the credential type: ' + problem, file=sys.stderr)
        if not problems:
            print('credential type: AWX would accept it')
        return 1 if problems else 0
    if args.command == 'inject':
        credential_type = load_yaml(args.type)
        with open(args.inputs) as stream:
            inputs = json.load(stream)
        print(json.dumps(render_into(credential_type, inputs, args.private_data_dir, args.job_data_dir), sort_keys=True))
        return 0
    if args.command == 'run':
        return run(args)
    parser.print_help(sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
