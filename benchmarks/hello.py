"""The yardstick: a bare Flask hello-world, served by benchmarks/run.py exactly as the portal is."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
