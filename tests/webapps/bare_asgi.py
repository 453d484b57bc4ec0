"""A bare ASGI 3 callable and an ASGI object with an async __call__ (no framework)."""


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


class App:
    async def __call__(self, scope, receive, send):
        await app(scope, receive, send)


instance = App()
