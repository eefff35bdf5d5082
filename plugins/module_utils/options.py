# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options in one place, and the adapter both front ends read them through.

Modules read ``module.params``; lookups read ``self.get_option``. The client
only ever talks to ``EmOptionAdapter``, so env vars, ``module_defaults``,
``ansible.cfg`` and host vars behave the same everywhere (the pattern of
community.hashi_vault's HashiVaultOptionAdapter).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
from urllib.parse import urlsplit, urlunsplit

from ansible.module_utils.basic import env_fallback
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

DEFAULT_PORT = 9398
API_VERSIONS = ['latest', 'v1_5', 'v1_6', 'v1_7']

# option name -> environment variable (modules use env_fallback, plugins env: in their docs).
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


def _env(name):
    """``fallback`` tuple reading the option's environment variable."""
    return (env_fallback, [ENV_VARS[name]])


def connection_argument_spec():
    """Return a fresh copy of the connection part of a module's argument_spec."""
    return dict(
        url=dict(type='str', fallback=_env('url')),
        username=dict(type='str', fallback=_env('username')),
        password=dict(type='str', no_log=True, fallback=_env('password')),
        session_token=dict(type='str', no_log=True, fallback=_env('session_token')),
        validate_certs=dict(type='bool', default=True, fallback=_env('validate_certs')),
        ca_path=dict(type='path', fallback=_env('ca_path')),
        timeout=dict(type='float', default=30, fallback=_env('timeout')),
        retries=dict(type='int', default=3),
        api_version=dict(type='str', default='latest', choices=list(API_VERSIONS)),
    )


class EmOptionAdapter(object):
    """Read options the same way from a module, a plugin or a plain dict."""

    def __init__(self, getter):
        self._getter = getter

    @classmethod
    def from_module(cls, module):
        """Adapter over ``module.params`` (argument_spec already applied env fallbacks and types)."""
        return cls(module.params.get)

    @classmethod
    def from_plugin(cls, plugin):
        """Adapter over a plugin's ``get_option`` (env, ini and vars already resolved by Ansible)."""
        def getter(name):
            try:
                return plugin.get_option(name)
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
    text = (url or '').strip()
    if not text:
        raise EmError('No Enterprise Manager URL was given: set the url option or the VEEAM_EM_URL environment variable.')
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


def validate_connection(options):
    """Check and complete raw connection option values; return a new dict.

    Adds ``base_url`` (normalised) and applies defaults, so the client can
    trust every key. Raises EmError with one sentence on bad input.
    """
    result = dict(options)
    result['base_url'] = normalise_url(result.get('url'))
    if not result.get('session_token') and not (result.get('username') and result.get('password') is not None):
        raise EmError('Either username and password or session_token is required to talk to Enterprise Manager.')
    api_version = result.get('api_version') or 'latest'
    if api_version not in API_VERSIONS:
        raise EmError('api_version must be one of {0}, not {1!r}.'.format(', '.join(API_VERSIONS), api_version))
    result['api_version'] = api_version
    validate = result.get('validate_certs')
    try:
        result['validate_certs'] = True if validate is None else boolean(validate, strict=True)
    except TypeError:
        raise EmError('validate_certs must be a boolean, not {0!r}.'.format(validate))
    try:
        timeout = float(result.get('timeout') if result.get('timeout') is not None else 30)
        retries = int(result.get('retries') if result.get('retries') is not None else 3)
    except (TypeError, ValueError):
        raise EmError('timeout must be a number of seconds and retries a whole number.')
    if timeout <= 0:
        raise EmError('timeout must be a positive number of seconds.')
    if retries < 0:
        raise EmError('retries must be zero or more.')
    result['timeout'] = timeout
    result['retries'] = retries
    # requests would only say so with a bare OSError at the first request.
    if result.get('ca_path') and not os.path.exists(result['ca_path']):
        raise EmError('ca_path {0} does not exist; give the path of a PEM file (or folder) of CA certificates.'.format(result['ca_path']))
    return result
