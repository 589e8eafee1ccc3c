# The settings module the seed-004 client imports: its defaults, from the environment the test sets.
import os

BACKEND_USERNAME = os.environ.get("BACKEND_USERNAME", "")
BACKEND_PASSWORD = os.environ.get("BACKEND_PASSWORD", "")
SERVER_URI = os.environ.get("SERVER_URI", "http://127.0.0.1:8000/")
