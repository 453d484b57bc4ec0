"""A bare WSGI function and a WSGI object (no framework)."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


class App:
    def __call__(self, environ, start_response):
        return app(environ, start_response)


class Wrapper:
    """Middleware with .app, as many WSGI wrappers are."""

    def __init__(self, inner):
        self.app = inner

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


instance = App()
wrapped = Wrapper(app)
