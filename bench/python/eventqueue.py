"""The event-queue service's GET/POST API as a WSGI app, for the Gunicorn and uWSGI rows of the
benchmark. It serves byte-identical bodies to examples/event-queue/app.js (the bench checks)."""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
EVENTS_FILE = os.path.join(HERE, '..', '..', 'examples', 'event-queue', 'bench-events.json')
CHANNEL = re.compile(r'^/v1/channels/([A-Za-z0-9_.-]{1,64})/events$')
MAX_BODY = 64 * 1024


def dumps(value):
    return json.dumps(value, separators=(',', ':')).encode()


class Channel:
    def __init__(self):
        self.events = []
        self.cached = None

    def add(self, data):
        event_id = len(self.events) + 1
        self.events.append({'id': event_id, 'data': data})
        self.cached = None
        return event_id

    def full_body(self):
        if self.cached is None:
            self.cached = dumps(self.events)
        return self.cached


channels = {'bench': Channel()}
with open(EVENTS_FILE) as f:
    for event in json.load(f):
        channels['bench'].add(event)


def respond(start_response, status, body):
    start_response(status, [('Content-Type', 'application/json'), ('Content-Length', str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ.get('PATH_INFO', '/')
    method = environ['REQUEST_METHOD']
    if path == '/v1/health':
        return respond(start_response, '200 OK', dumps({'status': 'ok'}))
    match = CHANNEL.match(path)
    if not match:
        return respond(start_response, '404 Not Found', dumps({'error': {'code': 'not_found', 'message': 'no route for ' + path}}))
    name = match.group(1)
    if method == 'GET':
        channel = channels.get(name)
        return respond(start_response, '200 OK', channel.full_body() if channel else b'[]')
    if method == 'POST':
        length = int(environ.get('CONTENT_LENGTH') or 0)
        if length > MAX_BODY:
            return respond(start_response, '413 Payload Too Large', dumps({'error': {'code': 'too_large', 'message': 'body too large'}}))
        try:
            parsed = json.loads(environ['wsgi.input'].read(length) or b'null')
        except ValueError:
            return respond(start_response, '400 Bad Request', dumps({'error': {'code': 'invalid_json', 'message': 'the body is not valid JSON'}}))
        events = parsed if isinstance(parsed, list) else [parsed]
        if not events or not all(isinstance(e, dict) for e in events):
            return respond(start_response, '400 Bad Request', dumps({'error': {'code': 'invalid_events', 'message': 'send event objects'}}))
        channel = channels.setdefault(name, Channel())
        return respond(start_response, '201 Created', dumps({'ids': [channel.add(e) for e in events]}))
    return respond(start_response, '405 Method Not Allowed', dumps({'error': {'code': 'method_not_allowed', 'message': 'use GET or POST'}}))
