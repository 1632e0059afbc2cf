# gunicorn behind doorman: `gunicorn -c gunicorn.conf.py app:application`.
#
# doorman buffers every request and response completely, so sync workers are never held
# by a slow client: no async worker class, no large worker count needed for slow networks.

# The socket doorman's gunicorn.yaml names. The doorman user needs write permission on
# it: run gunicorn with a group doorman belongs to, or add doorman to gunicorn's group.
bind = "unix:/run/gunicorn/gunicorn.sock"
umask = 0o007

# doorman's `workers: 4` must equal this: it never has more requests in flight than
# there are workers, and queues the rest itself.
workers = 4
worker_class = "sync"

# Longer than doorman's upstreams.app.timeouts.response (25s).
timeout = 30
graceful_timeout = 30

# doorman sets X-Forwarded-For and X-Forwarded-Proto; trust them from doorman only. On a
# unix socket the peer has no address, hence "*" (the socket's permissions are the trust
# boundary).
forwarded_allow_ips = "*"
