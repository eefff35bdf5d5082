# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options in one place, and the adapter both front ends read them through.

Modules read ``module.params``; lookups read ``self.get_option``. The client
only ever talks to ``EmOptionAdapter``, so env vars, ``module_defaults``,
``ansible.cfg`` and host vars behave the same everywhere (the pattern of
community.hashi_vault's HashiVaultOptionAdapter).

An empty value that comes from the environment, a variable or ``ansible.cfg``
means "not set": AWX and AAP credentials send optional fields left empty as
empty strings. An empty value given directly to a task or a lookup is an error.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import stat
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleFallbackNotFound

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import validate
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

DEFAULT_PORT = 9398
API_VERSIONS = ['latest', 'v1_5', 'v1_6', 'v1_7']
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
# A CA bundle larger than this is not a CA bundle; reading stops there.
CA_FILE_MAX_BYTES = 16 * 1024 * 1024

# option name -> environment variable (modules use a fallback, plugins env: in their docs).
ENV_VARS = {
    'url': 'VEEAM_EM_URL',
    'username': 'VEEAM_EM_USERNAME',
    'password': 'VEEAM_EM_PASSWORD',
    'session_token': 'VEEAM_EM_SESSION_TOKEN',
    'validate_certs': 'VEEAM_EM_VALIDATE_CERTS',
    'ca_path': 'VEEAM_EM_CA_PATH',
    'timeout': 'VEEAM_EM_TIMEOUT',
}

CONNECTION_OPTIONS = ('url', 'username', 'password', 'session_token', 'validate_certs', 'ca_path', 'timeout', 'retries', 'api_version')
# Plugin variables of the connection options (the PLUGINS doc fragment's vars:).
PLUGIN_VARS = frozenset('veeam_em_' + name for name in CONNECTION_OPTIONS)
_INI_SECTION = 'vbem_enterprise_manager'


def env_fallback_nonempty(*names):
    """``fallback`` function: the first of ``names`` set in the environment to a non-empty value.

    Unlike Ansible's ``env_fallback`` an empty variable counts as unset, so an
    AWX credential's empty optional field does not become an empty option.
    """
    for name in names:
        value = os.environ.get(name)
        if value is not None and value.strip() != '':
            return value
    raise AnsibleFallbackNotFound


def _env(name):
    """``fallback`` tuple reading the option's environment variable."""
    return (env_fallback_nonempty, [ENV_VARS[name]])


def connection_argument_spec():
    """Return a fresh copy of the connection part of a module's argument_spec."""
    return dict(
        url=dict(type='str', fallback=_env('url')),
        username=dict(type='str', fallback=_env('username')),
        password=dict(type='str', no_log=True, fallback=_env('password')),
        session_token=dict(type='str', no_log=True, fallback=_env('session_token')),
        validate_certs=dict(type='bool', default=True, fallback=_env('validate_certs')),
        ca_path=dict(type='path', fallback=_env('ca_path')),
        timeout=dict(type='float', default=DEFAULT_TIMEOUT, fallback=_env('timeout')),
        retries=dict(type='int', default=DEFAULT_RETRIES),
        api_version=dict(type='str', default='latest', choices=list(API_VERSIONS)),
    )


class _WithoutEmptyConnectionVars(Mapping):
    """A read-only view of a plugin's variables that hides connection variables set to ''.

    Ansible converts an empty ``veeam_em_timeout`` to an error and an empty
    ``veeam_em_validate_certs`` to false before a plugin sees the value;
    hiding it lets the next source (environment, ansible.cfg, default) apply.
    """

    def __init__(self, variables):
        self._variables = variables

    def _hidden(self, key):
        if key not in PLUGIN_VARS or key not in self._variables:
            return False
        value = self._variables[key]
        return value is None or (isinstance(value, str) and value.strip() == '')

    def __getitem__(self, key):
        if self._hidden(key):
            raise KeyError(key)
        return self._variables[key]

    def __contains__(self, key):
        return key in self._variables and not self._hidden(key)

    def __iter__(self):
        return (key for key in self._variables if not self._hidden(key))

    def __len__(self):
        return sum(1 for _key in self)

    def __bool__(self):
        return bool(self._variables)


def plugin_variables(variables):
    """The variables to give a plugin's ``set_options(var_options=...)``: empty connection variables hidden."""
    if not variables:
        return variables
    return _WithoutEmptyConnectionVars(variables)


def _ini_value(path, option):
    """The raw value of ``[vbem_enterprise_manager] option`` in the ansible.cfg at ``path``, or None."""
    try:
        from configparser import ConfigParser
        parser = ConfigParser(interpolation=None)
        parser.read(path)
        return parser.get(_INI_SECTION, option, fallback=None)
    except Exception:  # pylint: disable=broad-except  # an unreadable config is Ansible's to report, not ours
        return None


def _empty_at_source(name, value, origin):
    """True when a plugin option's value came from an empty environment variable, variable or ini entry."""
    if value is None:
        return True
    origin = str(origin or '')
    if origin == 'Direct' or origin == 'default' or origin.startswith('keyword:') or origin.startswith('cli:'):
        return False
    if origin.startswith('env:'):
        # The raw value: a path option resolves '' to the current folder, a bool to false.
        return os.environ.get(origin[len('env:'):].strip(), '').strip() == ''
    if origin.startswith('var:'):
        return isinstance(value, str) and value.strip() == ''
    raw = _ini_value(origin, name)
    return raw is not None and raw.strip().strip('\'"') == ''


class EmOptionAdapter(object):
    """Read options the same way from a module, a plugin or a plain dict."""

    def __init__(self, getter):
        self._getter = getter

    @classmethod
    def from_module(cls, module):
        """Adapter over ``module.params`` (argument_spec already applied env fallbacks and types)."""
        return cls(module.params.get)

    @classmethod
    def from_plugin(cls, plugin, direct=None, variables=None):
        """Adapter over a plugin's options (direct keywords, vars, env and ini already resolved by Ansible).

        The value is always the plugin's ``get_option()``. A connection
        option whose value came from an empty environment variable, variable
        or ini entry reads as unset (None); one given directly stays as
        given, even empty. ``direct`` is the mapping the plugin gave
        ``set_options(direct=...)`` and ``variables`` its ``var_options``:
        ansible-core 2.16 keeps no origins, and its ``get_option_and_origin()``
        reads the configuration again without the direct keywords, so the
        origin of a value not given directly is re-derived from ``variables``.
        Give the plugin ``plugin_variables(variables)`` as its ``var_options``
        so that an empty variable lets the next source apply instead.
        """
        direct = direct or {}

        def getter(name):
            try:
                value = plugin.get_option(name)
                if name not in CONNECTION_OPTIONS or not hasattr(plugin, 'get_option_and_origin'):
                    return value
                if direct.get(name) is not None:
                    # Ansible takes a direct value that is not None before any other source.
                    return value
                dummy, origin = plugin.get_option_and_origin(name, hostvars=variables)
                return None if _empty_at_source(name, value, origin) else value
            except KeyError:
                return None
        return cls(getter)

    @classmethod
    def from_dict(cls, values):
        """Adapter over a plain dict (tests, scripts)."""
        return cls(dict(values).get)

    def get_option(self, name):
        """Value of option ``name`` or None when unset or unknown."""
        return self._getter(name)

    def connection_options(self):
        """The validated connection settings as a dict (see ``validate_connection``)."""
        return validate_connection(dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS))


def normalise_url(url):
    """Return the API base URL ``https://host:9398/api`` for whatever the user typed.

    Accepts the URL with or without ``/api``, with or without a trailing
    slash, with or without a port (9398 is assumed) and without a scheme
    (https is assumed). Rejects other schemes and URLs with user:password.
    """
    if url is None:
        raise EmError('No Enterprise Manager URL was given: set the url option or the VEEAM_EM_URL environment variable.')
    if not isinstance(url, str):
        raise EmError('url must be a string such as https://em.example.com:9398, not a {0}.'.format(type(url).__name__))
    text = url.strip()
    if not text:
        raise EmError('url is empty; give the EM address such as https://em.example.com:9398, or leave the option out '
                      'and set the VEEAM_EM_URL environment variable.')
    if '://' not in text:
        text = 'https://' + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ('http', 'https'):
        raise EmError('The EM url must start with https:// (or http://), not {0}://.'.format(parts.scheme))
    if '@' in parts.netloc:
        raise EmError('The EM url must not carry a user name or password; use the username and password options instead.')
    if not parts.hostname:
        raise EmError('The EM url {0!r} names no host.'.format(url))
    try:
        port = parts.port
    except ValueError:
        raise EmError('The EM url {0!r} has an invalid port.'.format(url))
    if parts.query or parts.fragment:
        raise EmError('The EM url must not carry a query string or fragment; give just https://host:9398.')
    host = parts.hostname
    if ':' in host:
        host = '[' + host + ']'
    netloc = '{0}:{1}'.format(host, port or DEFAULT_PORT)
    path = parts.path.rstrip('/')
    if not path.lower().endswith('/api'):
        path += '/api'
    return urlunsplit((scheme, netloc, path, '', ''))


def _non_empty_text(options, name, expected):
    """None when unset; the string when non-empty; EmError when explicitly empty or not a string."""
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EmError('{0} must be a string, {1}, not a {2}.'.format(name, expected, type(value).__name__))
    if value.strip() == '':
        env = ENV_VARS.get(name)
        unset = ' and the {0} environment variable unset'.format(env) if env else ''
        raise EmError('{0} is empty; give {1}, or leave the option out{2}.'.format(name, expected, unset))
    return value


def _timeout(value):
    """Seconds as a float in (0, validate.TIMEOUT_MAX]."""
    return DEFAULT_TIMEOUT if value is None else validate.seconds(value, 'timeout')


def _retries(value):
    """A whole number in [0, validate.RETRIES_MAX]."""
    return DEFAULT_RETRIES if value is None else validate.retries(value)


def _validate_certs(value):
    return True if value is None else validate.flag(value, 'validate_certs')


def check_ca_path(path):
    """Return the usable absolute ``ca_path`` or raise EmError naming it.

    Checked before any connection, because requests only reports a bad CA
    bundle during the TLS handshake, in OpenSSL's words ("Input/output
    error"), and opening a FIFO or a device as a bundle can block forever.
    A file must be a readable PEM bundle; a folder must be listable.
    """
    expanded = os.path.abspath(os.path.expanduser(os.path.expandvars(path)))
    expected = 'give the path of a PEM file (or folder) of CA certificates'
    try:
        info = os.stat(expanded)
    except OSError as exc:
        if not os.path.lexists(expanded):
            raise EmError('ca_path {0} does not exist; {1}.'.format(path, expected))
        raise EmError('ca_path {0} cannot be examined ({1}); {2}.'.format(path, exc.strerror or exc, expected))
    if stat.S_ISDIR(info.st_mode):
        try:
            os.listdir(expanded)
        except OSError as exc:
            raise EmError('ca_path {0} is a folder that cannot be read ({1}); {2}.'.format(path, exc.strerror or exc, expected))
        return expanded
    if not stat.S_ISREG(info.st_mode):
        kind = ('a FIFO' if stat.S_ISFIFO(info.st_mode) else 'a socket' if stat.S_ISSOCK(info.st_mode)
                else 'a device' if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else 'not a regular file')
        raise EmError('ca_path {0} is {1}, not a regular file or a folder; {2}.'.format(path, kind, expected))
    try:
        with open(expanded, 'rb') as handle:
            content = handle.read(CA_FILE_MAX_BYTES)
    except (IOError, OSError) as exc:
        raise EmError('ca_path {0} cannot be read ({1}); {2}.'.format(path, getattr(exc, 'strerror', None) or exc, expected))
    if b'-----BEGIN ' not in content or b'CERTIFICATE-----' not in content:
        raise EmError('ca_path {0} holds no PEM certificate (no -----BEGIN CERTIFICATE----- line); {1}.'.format(path, expected))
    return expanded


def validate_connection(options):
    """Check and complete raw connection option values; return a new dict.

    Adds ``base_url`` (normalised) and applies defaults, so the client can
    trust every key. None means unset; an empty string was given on purpose
    and is refused. Raises EmError with one sentence on bad input.
    """
    result = dict(options)
    result['base_url'] = normalise_url(result.get('url'))
    result['username'] = _non_empty_text(result, 'username', 'the EM user name')
    result['session_token'] = _non_empty_text(result, 'session_token', 'the token a logon task returned')
    password = result.get('password')
    if password is not None and not isinstance(password, str):
        raise EmError('password must be a string, not a {0}.'.format(type(password).__name__))
    if password == '':
        raise EmError('password is empty; give the password of username, or leave the option out and the VEEAM_EM_PASSWORD '
                      'environment variable unset.')
    if not result['session_token'] and not (result['username'] and password is not None):
        raise EmError('Either username and password or session_token is required to talk to Enterprise Manager.')
    api_version = result.get('api_version') or 'latest'
    if api_version not in API_VERSIONS:
        raise EmError('api_version must be one of {0}, not {1}.'.format(', '.join(API_VERSIONS), validate.shown(api_version)))
    result['api_version'] = api_version
    result['validate_certs'] = _validate_certs(result.get('validate_certs'))
    result['timeout'] = _timeout(result.get('timeout'))
    result['retries'] = _retries(result.get('retries'))
    ca_path = _non_empty_text(result, 'ca_path', 'the path of a PEM file (or folder) of CA certificates')
    result['ca_path'] = check_ca_path(ca_path) if ca_path else None
    return result
