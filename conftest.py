# nameko >= 2.13 no longer monkey-patches in its pytest plugin; without this, tests hang.
import eventlet

eventlet.monkey_patch()
