"""Settings of the load benchmark: the production settings, only with the benchmark's URLconf
(``tests.perf.load_urls``: every production URL plus the bare baseline view), so production
code never gets a benchmark endpoint. Everything else comes from the environment that
``bench_load`` sets."""

from portal.settings.production import *  # noqa: F403

ROOT_URLCONF = "tests.perf.load_urls"
