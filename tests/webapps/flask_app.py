"""A Flask app: def views, an async def view, a path parameter, a class-based view."""

from flask import Flask
from flask.views import MethodView

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "hello"


@app.get("/async")
async def async_view():
    return "async"


@app.route("/users/<int:user_id>", methods=["GET", "DELETE"])
def user(user_id):
    return str(user_id)


class Counter(MethodView):
    def get(self):
        return "0"

    async def post(self):
        return "1"


app.add_url_rule("/counter", view_func=Counter.as_view("counter"))
