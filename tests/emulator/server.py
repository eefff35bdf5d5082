"""HTTP(S) plumbing: threading server, TLS, routing, faults, counters, control endpoints."""

from __future__ import annotations

import datetime
import json
import re
import socket
import ssl
import sys
import threading
import time
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import actions, render, resources, tamper
from .auth import AuthError, SessionStore
from .data import us_from_datetime
from .faults import FaultError, Faults
from .live import ControlError, Live
from .resources import ApiError, Request
from .tamper import Tamper, TamperError

_HTTPSYS_414 = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    '<HTML><HEAD><TITLE>Request URL Too Long</TITLE>\r\n'
    '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    '<BODY><h2>Request URL Too Long</h2>\r\n'
    '<hr><p>HTTP Error 414. The request URL is too long.</p>\r\n'
    '</BODY></HTML>\r\n')
_HTTPSYS_GENERIC = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    '<HTML><HEAD><TITLE>%(title)s</TITLE>\r\n'
    '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    '<BODY><h2>%(title)s</h2>\r\n'
    '<hr><p>HTTP Error %(code)d. %(text)s</p>\r\n'
    '</BODY></HTML>\r\n')


def _route(pattern, template, methods, auth=True):
    return re.compile('^' + pattern + '$', re.IGNORECASE), template, methods, auth


_SESSION_PATHS = '|'.join(re.escape(path) for path in resources.COLLECTIONS)
_SUB_PATHS = '|'.join(sorted({child for _parent, child in resources.SUB_COLLECTIONS}))
# (regex over the path below /api, template for counters, allowed methods, needs a token)
ROUTES = (
    _route(r'/?', '/api/', ('GET',), auth=False),
    _route(r'/sessionMngr/?', '/api/sessionMngr/', ('POST',), auth=False),
    _route(r'/logonSessions/?', '/api/logonSessions', ('GET',)),
    _route(r'/logonSessions/[^/]+/?', '/api/logonSessions/{id}', ('GET', 'DELETE')),
    _route(r'/query/?', '/api/query', ('GET',)),
    _route(r'/querySvc/?', '/api/querySvc', ('GET',)),
    _route(r'/(?:%s)/?' % _SESSION_PATHS, '/api/{collection}', ('GET',)),
    # POST: ?action=quickbackup|collect on backupServers/{id}, ?action=start on jobs/{id} (actions.py).
    _route(r'/(?:%s)/[^/]+/?' % _SESSION_PATHS, '/api/{collection}/{id}', ('GET', 'POST')),
    _route(r'/(?:%s)/[^/]+/(?:%s)/?' % (_SESSION_PATHS, _SUB_PATHS), '/api/{collection}/{id}/{children}', ('GET',)),
) + actions.parse_routes(_route)
# "METHOD template" of every implemented route: the keys of the request counters and what faults can be scoped to.
ROUTE_LABELS = tuple('%s %s' % (method, template) for _regex, template, methods, _auth in ROUTES for method in methods)
_CONTROL_HELP = ('GET stats, GET catalog, POST reset, GET|POST|DELETE faults, GET|POST|DELETE tamper, POST finish, '
                 'POST sessions, GET|POST actions, POST points, POST agent_sessions')


class EmulatorServer(ThreadingHTTPServer):
    """The EM emulator: owns the data set, logon sessions, faults and counters."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, dataset, options, ssl_context=None):
        if ':' in address[0]:
            self.address_family = socket.AF_INET6
        self.dataset = dataset
        self.options = options
        self.ssl_context = ssl_context
        self.store = SessionStore(options.username, options.password, options.idle_timeout, options.max_logon_sessions,
                                  users=getattr(options, 'users', None) or ())
        self.faults = Faults(options.seed, ROUTE_LABELS)
        self.tamper = Tamper(ROUTE_LABELS)
        now = getattr(options, 'now', None)
        origin = now if now is not None else us_from_datetime(datetime.datetime.now(datetime.timezone.utc))
        self.live = Live(dataset, getattr(options, 'running_finish_after', None), origin)
        self.children = self.live.children
        self.actions = actions.Actions(self.live, getattr(options, 'action_duration', 5.0),
                                       getattr(options, 'collection_lag', 0.0))
        self._lock = threading.Lock()
        self.reset_counters()
        super().__init__(address, Handler)

    def reset_counters(self):
        """Zero the request counters."""
        with self._lock:
            self.requests = {}
            self.injected = {'dropped_connections': 0, 'dropped_answers': 0, 'injected_errors': 0}
            self.last_request = None

    def saw_request(self):
        """Remember when EM last received a request (anything but a control call)."""
        moment = time.monotonic()
        with self._lock:
            self.last_request = moment

    def count(self, key, injected=None):
        """Count one request (by method and route template) and optionally an injected fault."""
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            if injected:
                self.injected[injected] += 1

    def stats(self):
        """The body of ``GET /_emulator/stats``."""
        data = self.store.stats()
        with self._lock:
            data['requests'] = dict(sorted(self.requests.items()))
            data['requests_total'] = sum(self.requests.values())
            data.update(self.injected)
            last = self.last_request
        # Data collections asked for (POST /api/backupServers/{id}?action=collect that EM accepted), since start.
        data['collections'] = self.actions.collections
        data['last_api_request_monotonic_age'] = None if last is None else round(time.monotonic() - last, 3)
        return data

    def get_request(self):
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # Handshake lazily in the worker thread so one slow client cannot block accept().
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        if self.options.verbose:
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """One connection; keeps it alive between requests like HTTP.sys does."""

    protocol_version = 'HTTP/1.1'
    timeout = 60
    # Headers and body leave in separate writes; with Nagle on, the body waits for the client's delayed ACK
    # (40 ms on Linux) on every keep-alive request, which would make paging look slow.
    disable_nagle_algorithm = True

    def version_string(self):
        return 'Microsoft-HTTPAPI/2.0'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.options.verbose:
            sys.stderr.write('%s - - [%s] %s\n' % (self.address_string(), self.log_date_time_string(), format % args))

    def send_error(self, code, message=None, explain=None):
        """Errors raised by the HTTP layer itself look like HTTP.sys's, not EM's."""
        if code == 414:
            self._send_414()
            return
        title = message or self.responses.get(code, ('Error',))[0]
        body = (_HTTPSYS_GENERIC % {'title': title, 'code': code, 'text': explain or title}).encode('ascii', 'replace')
        self.close_connection = True
        self.send_response(code, title)
        self.send_header('Content-Type', 'text/html; charset=us-ascii')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)

    def _send_414(self):
        body = _HTTPSYS_414.encode('ascii')
        self.close_connection = True
        self.send_response(414, 'Request-URI Too Long')
        self.send_header('Content-Type', 'text/html; charset=us-ascii')
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # pylint: disable=invalid-name
        """Dispatch GET."""
        self.dispatch()

    def do_POST(self):  # pylint: disable=invalid-name
        """Dispatch POST."""
        self.dispatch()

    def do_DELETE(self):  # pylint: disable=invalid-name
        """Dispatch DELETE."""
        self.dispatch()

    def do_PUT(self):  # pylint: disable=invalid-name
        """Dispatch PUT."""
        self.dispatch()

    def do_PATCH(self):  # pylint: disable=invalid-name
        """Dispatch PATCH."""
        self.dispatch()

    # -- plumbing ------------------------------------------------------------------------

    def _read_body(self):
        length = self.headers.get('Content-Length')
        try:
            size = int(length) if length else 0
        except ValueError:
            size = 0
        return self.rfile.read(size) if size > 0 else b''

    def _send(self, status, body=b'', content_type=None, headers=None):
        self.send_response(status, render.status_name(status))
        if content_type and status != 204:
            self.send_header('Content-Type', content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if body and status != 204 and self.command != 'HEAD':
            self.wfile.write(body)

    def _wants_json(self):
        if self.server.options.xml_only:
            return False
        return 'application/json' in (self.headers.get('Accept') or '').lower()

    def _send_response_obj(self, response):
        if response.status == 204:
            self._send(204, headers=response.headers)
        elif self._wants_json():
            options = self.server.options
            self._send(response.status, render.dump_json(response.data, options.camel_case, options.bom), 'application/json',
                       response.headers)
        else:
            self._send(response.status, response.xml.encode('utf-8'), 'application/xml', response.headers)

    def send_em_error(self, status, message, headers=None):
        """Send EM's Error envelope in the negotiated format."""
        if self._wants_json():
            options = self.server.options
            body = render.dump_json(render.error_json(status, message), options.camel_case, options.bom)
            self._send(status, body, 'application/json', headers)
        else:
            self._send(status, render.error_xml(status, message).encode('utf-8'), 'application/xml', headers)

    def _send_control(self, status, value):
        self._send(status, json.dumps(value, indent=2, ensure_ascii=False).encode('utf-8') + b'\n', 'application/json')

    def dispatch(self):
        """Route one request: URL length, control endpoints, then /api."""
        split = urlsplit(self.path)
        path = split.path
        control = path == '/_emulator' or path.startswith('/_emulator/')
        if not control:
            self.server.saw_request()
        self.server.live.tick()
        if len(self.path) > self.server.options.url_max_length:
            self._send_414()
            return
        body = self._read_body()
        self.request_body = body
        if control:
            self.control(path[len('/_emulator'):].strip('/'), body)
            return
        if path.lower() != '/api' and not path.lower().startswith('/api/'):
            self.send_em_error(404, "The resource '%s' was not found." % path)
            return
        self.api(path[4:], split.query)

    def control(self, name, body):
        """The JSON control endpoints under /_emulator (no auth, never faulted)."""
        server = self.server
        method = self.command
        if name == 'stats' and method == 'GET':
            self._send_control(200, server.stats())
        elif name == 'catalog' and method == 'GET':
            self._send_control(200, server.live.catalog())
        elif name == 'reset' and method == 'POST':
            server.store.reset()
            server.faults.clear()
            server.tamper.clear()
            server.reset_counters()
            self._send_control(200, {'reset': True})
        elif name == 'faults' and method in ('GET', 'POST', 'DELETE'):
            if method == 'DELETE':
                server.faults.clear()
            elif method == 'POST':
                try:
                    if server.faults.update(self._control_json(body, '{}')):
                        server.store.expire_all()
                except (FaultError, ControlError) as exc:
                    self._send_control(400, {'error': str(exc)})
                    return
            self._send_control(200, server.faults.snapshot())
        elif name == 'tamper' and method in ('GET', 'POST', 'DELETE'):
            if method == 'DELETE':
                server.tamper.clear()
            elif method == 'POST':
                try:
                    server.tamper.update(self._control_json(body, '{}'))
                except (TamperError, ControlError) as exc:
                    self._send_control(400, {'error': str(exc)})
                    return
            self._send_control(200, server.tamper.snapshot())
        elif name in ('finish', 'sessions') and method == 'POST':
            try:
                payload = self._control_json(body, '')
                answer = server.live.finish(payload) if name == 'finish' else server.live.add_session(payload)
            except ControlError as exc:
                self._send_control(400, {'error': str(exc)})
                return
            self._send_control(200, answer)
        elif (name, method) in (('actions', 'GET'), ('actions', 'POST'), ('points', 'POST'), ('agent_sessions', 'POST')):
            try:
                answer = server.actions.control(name, method, self._control_json(body, '') if method == 'POST' else None)
            except ControlError as exc:
                self._send_control(400, {'error': str(exc)})
                return
            self._send_control(200, answer)
        else:
            self._send_control(404, {'error': 'Unknown control endpoint %s /_emulator/%s. Known: %s.' % (
                method, name, _CONTROL_HELP)})

    @staticmethod
    def _control_json(body, empty):
        """A control request's JSON body (``empty`` stands in for no body); ControlError with one sentence otherwise."""
        try:
            text = body.decode('utf-8') or empty
            if not text.strip():
                raise ControlError('The request needs a JSON object body.')
            return json.loads(text)
        except UnicodeDecodeError:
            raise ControlError('The body is not UTF-8.') from None
        except json.JSONDecodeError as exc:
            raise ControlError('The body is not valid JSON (%s).' % exc) from None

    def _tokens(self):
        """Every session token the request carries (cookie and header)."""
        tokens = []
        cookie_header = self.headers.get('Cookie')
        if cookie_header:
            try:
                cookies = SimpleCookie(cookie_header)
            except CookieError:
                cookies = {}
            tokens.extend(m.value for name, m in cookies.items() if name.lower() == 'x-restsvcsessionid' and m.value)
        header = (self.headers.get('X-RestSvcSessionId') or '').strip()
        if header:
            tokens.append(header)
        return tokens

    def _token(self):
        """The session token; the cookie wins over the header (EM docs)."""
        cookie_header = self.headers.get('Cookie')
        if cookie_header:
            try:
                cookies = SimpleCookie(cookie_header)
            except CookieError:
                cookies = {}
            for name, morsel in cookies.items():
                if name.lower() == 'x-restsvcsessionid' and morsel.value:
                    return morsel.value
        return (self.headers.get('X-RestSvcSessionId') or '').strip()

    def api(self, sub_path, query_string):
        """Handle an /api request: route, faults, auth, then the resource."""
        server = self.server
        method = self.command
        route = None
        for regex, template, methods, auth in ROUTES:
            if regex.match(sub_path):
                route = (template, methods, auth)
                break
        template = route[0] if route else '/api/{unknown}'
        label = '%s %s' % (method, template)
        tokens = self._tokens()
        if tokens:
            # The creator received the token, whatever becomes of this request (a lost 201 shows as never used).
            server.store.mark_used(tokens)
        fate, status, latency = server.faults.decide(label)
        server.count(label, {'drop': 'dropped_connections', 'drop_answer': 'dropped_answers',
                             'fail': 'injected_errors'}.get(fate))
        if latency:
            time.sleep(latency)
        if fate == 'drop':
            self.close_connection = True
            return
        if fate == 'fail':
            self.send_em_error(status, 'Injected fault: the emulator was asked to fail this request with HTTP %d.' % status)
            return
        error = None
        try:
            if route is None:
                raise ApiError(404, "The resource '/api%s' was not found." % sub_path)
            if method not in route[1]:
                raise ApiError(405, "Method '%s' is not allowed for '/api%s'." % (method, sub_path),
                               {'Allow': ', '.join(route[1])})
            response = self._call(template, sub_path, query_string, route[2])
        except ApiError as exc:
            error = (exc.status, exc.message, exc.headers)
        except AuthError as exc:
            error = (exc.status, exc.message, {'WWW-Authenticate': 'Basic Realm=RestSvc'} if exc.challenge else None)
        if fate == 'drop_answer':
            # EM did the work (a logon exists, a logoff happened) but the answer never reaches the client.
            self.close_connection = True
            return
        if error:
            self.send_em_error(*error)
            return
        if server.tamper.rules:
            response = tamper.apply(server.tamper, label, sub_path, query_string, server.options.default_page_size,
                                    lambda qs: self._call(template, sub_path, qs, route[2]), response)
            if isinstance(response, tamper.Raw):
                self._send(response.status, response.body, response.content_type or None)
                return
        self._send_response_obj(response)

    def _call(self, template, sub_path, query_string, needs_auth):
        server = self.server
        raw_params = parse_qsl(query_string, keep_blank_values=True)
        params = {}
        for name, value in raw_params:
            params.setdefault(name.lower(), value)
        scheme = 'https' if server.ssl_context is not None else 'http'
        host = self.headers.get('Host') or '%s:%d' % server.server_address[:2]
        ctx = render.Context('%s://%s/api' % (scheme, host), server.options.camel_case, not server.options.fix_cdp_href)
        segments = [segment for segment in sub_path.split('/') if segment]
        req = Request(self.command, segments, params, raw_params, self._wants_json(), ctx)
        if template == '/api/':
            return resources.entry_point(req)
        if template == '/api/sessionMngr/':
            resources.check_version(params)
            session = server.store.logon(self.headers.get('Authorization'))
            return resources.logon_response(session, ctx, req.json)
        if needs_auth:
            req.session = server.store.authenticate(self._token())
        if template == '/api/logonSessions':
            return resources.logon_sessions(req)
        if template == '/api/logonSessions/{id}':
            return resources.logon_session(req, server.store)
        if template == '/api/query':
            options = server.options
            return resources.query(req, server.dataset, options.default_page_size, options.empty_pages_count)
        if template == '/api/querySvc':
            return resources.query_service(req)
        if template in actions.TEMPLATES or self.command == 'POST':
            req.body = self.request_body
            req.content_type = self.headers.get('Content-Type')
            return server.actions.handle(template, req)
        return resources.session_resource(req, server.dataset, server.children)


def make_ssl_context(cert_file, key_file):
    """Server-side TLS context (TLS 1.2+) for the given certificate chain."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
