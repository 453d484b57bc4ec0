"""Has an `app` that is not an app, and a factory."""

app = 42


def create_app():
    from bare_wsgi import app as wsgi_app

    return wsgi_app
