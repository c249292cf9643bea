# nameko >= 2.13 no longer monkey-patches in its pytest plugin; without this, tests hang.
import eventlet

eventlet.monkey_patch()  # noqa: E402  (must run before anything imports socket or threading)
