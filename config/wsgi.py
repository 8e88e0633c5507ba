import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What loading made (settings, models, URLconf, templates, libraries) lives as long as the worker. Freezing it
# keeps CPython's full cyclic-GC passes from walking those ~100,000 objects again on every request that
# allocates a lot (a 2,000-person relationship map triggered one pass in two, +170 ms each). It also keeps
# the pages shared after a pre-fork server forks its workers. Measured in bench/README.md ("GC").
gc.freeze()
