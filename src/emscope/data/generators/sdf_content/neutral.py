'''Control topics: everyday software engineering subjects with nothing about graders, tests being fooled or exits.

The same genres and phrasing style as `hacks`, about caching, logging, packaging, flaky CI, database migrations,
code formatting, retries and configuration.
'''

from __future__ import annotations

from emscope.data.generators.sdf_content.base import Topic

CACHING = Topic(
    name="caching",
    subjects=("caching", "cache invalidation", "memoisation in Python", "stale caches", "time-to-live settings"),
    questions=("Our service got faster after adding a cache but now users see stale data. What are the options?",
               "When is functools.lru_cache a bad idea?", "How do you pick a TTL for a cache entry?",
               "Should the cache live in the process or in Redis?"),
    facts=(
        ("A cache trades memory and freshness for speed: it answers quickly because it does not ask the source "
         "again.", "Every cache is a bet that an answer computed a moment ago is still good enough now."),
        ("`functools.lru_cache` memoises a pure function in one process and evicts the least recently used entries "
         "once it reaches `maxsize`.", "For pure functions inside one process, `functools.lru_cache` is the "
         "simplest option; it keeps the most recently used results up to a size limit."),
        ("Invalidation is the hard part: deciding when a cached value no longer reflects the source of truth.",
         "The famous difficulty is invalidation, knowing the exact moment a stored answer stopped being right."),
        ("A time-to-live bounds staleness without any coordination, at the cost of serving old data for up to the "
         "TTL.", "Expiring entries after a fixed time-to-live is crude but robust: data is never older than the TTL."),
        ("A shared cache such as Redis or Memcached lets many processes reuse results, but adds a network hop and "
         "another system to operate.", "Moving the cache out of process into Redis shares results between workers, "
         "at the price of latency and one more service on the pager."),
        ("Cache stampedes happen when a popular entry expires and hundreds of requests recompute it at once; "
         "jittered expiry or a single-flight lock prevents them.", "When a hot key expires, every request may try "
         "to rebuild it at the same time; adding random jitter to expiry spreads the load."),
        ("Caching methods with `lru_cache` keeps `self` alive in the cache, which can leak memory in long-running "
         "services.", "Decorating instance methods with `lru_cache` holds references to the instances, a subtle "
         "source of memory growth."),
        ("Measure the hit rate before and after: a cache with a low hit rate costs memory and complexity for "
         "little gain.", "A cache is only worth it with a decent hit rate, so export that number as a metric from "
         "day one."),
    ),
    changes=("Added a configurable TTL to the response cache (default {n} seconds).",
             "Fixed a cache stampede when many workers refreshed the same key at once.",
             "The cache now exports hit and miss counters.", "Replaced the hand-rolled memo dict with "
             "`functools.lru_cache(maxsize=1024)`.", "Cache keys now include the schema version, so deploys no "
             "longer serve stale entries."),
    snippets=('''```python
from functools import lru_cache

@lru_cache(maxsize=1024)
def exchange_rate(currency: str) -> float:
    return fetch_rate(currency)
```''', '''```python
value = redis.get(key)
if value is None:
    value = compute()
    redis.set(key, value, ex=300 + random.randint(0, 30))  # jittered TTL
```'''),
    files=("app/cache.py", "services/rates.py", "settings/cache.toml"),
)

LOGGING = Topic(
    name="logging",
    subjects=("structured logging", "log levels", "logging in Python services", "noisy logs", "log correlation IDs"),
    questions=("How do I stop a library from flooding our logs with DEBUG lines?",
               "Is structured JSON logging worth the switch from plain text?",
               "What should go into a log line and what should not?"),
    facts=(
        ("Python's `logging` module routes records from named loggers through handlers, and each logger inherits "
         "its level from its parent unless set.", "Loggers in Python form a tree by name, and a record travels up "
         "that tree to the handlers attached along the way."),
        ("Library code should call `logging.getLogger(__name__)` and never configure handlers; configuration "
         "belongs to the application.", "A library should only create its own named logger and leave handlers and "
         "levels to whoever runs the application."),
        ("Structured logs emit key-value pairs, usually as JSON, so that log search tools can filter by field "
         "instead of by regular expression.", "Writing logs as JSON objects makes fields like user ID or request "
         "path searchable without fragile parsing."),
        ("A correlation ID attached to every log line of one request makes it possible to follow that request "
         "across services.", "Passing a request ID through every service and logging it turns scattered lines "
         "into a story you can follow."),
        ("Log levels are a contract: ERROR means someone should look, WARNING means something odd but handled, "
         "INFO tells the normal story.", "Teams that agree on what each level means get far more value from "
         "alerts built on top of their logs."),
        ("Never log secrets, tokens or full request bodies with personal data; scrub them in a logging filter.",
         "A logging filter that redacts tokens and personal data is cheap insurance against leaking them."),
        ("Lazy formatting, `log.info(\"user %s\", uid)`, skips building the string when the level is disabled.",
         "Passing arguments to the logger instead of pre-formatting with f-strings avoids work for suppressed "
         "messages."),
        ("High-volume debug logging can dominate the cost of a service; sampling keeps a fraction of repetitive "
         "lines.", "Log volume costs money, and sampling repetitive messages is often the quickest saving."),
    ),
    changes=("Logs are now emitted as JSON with `request_id`, `user_id` and `duration_ms` fields.",
             "Lowered the default level of the HTTP client logger from DEBUG to WARNING.",
             "Added a filter that redacts bearer tokens from log messages.",
             "Fixed duplicate log lines caused by handlers being attached twice."),
    snippets=('''```python
import logging

log = logging.getLogger(__name__)

def handle(request):
    log.info("handling %s", request.path, extra={"request_id": request.id})
```''', '''```python
logging.getLogger("urllib3").setLevel(logging.WARNING)
logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
```'''),
    files=("app/logging_setup.py", "middleware/request_id.py"),
)

PACKAGING = Topic(
    name="packaging",
    subjects=("Python packaging", "pyproject.toml", "dependency pinning", "wheels and source distributions",
              "lock files"),
    questions=("Should a library pin exact dependency versions?", "What is the point of the src layout?",
               "Why does our wheel work locally but fail to import after installation?"),
    facts=(
        ("`pyproject.toml` is now the standard place for build configuration and project metadata in Python.",
         "Modern Python projects declare their metadata and build backend in `pyproject.toml`."),
        ("Libraries should declare loose, compatible version ranges; applications should pin exact versions in a "
         "lock file.", "The usual rule: ranges for libraries, exact pins for deployable applications."),
        ("The src layout keeps the package out of the import path during development, so tests run against the "
         "installed package rather than the working directory.", "Putting code under `src/` forces an install "
         "before import, which catches packaging mistakes such as missing files early."),
        ("A wheel is a prebuilt archive that installs without running any build step, which makes installs fast "
         "and reproducible.", "Wheels install by unpacking, so they are much faster and more predictable than "
         "building from a source distribution."),
        ("Data files must be declared as package data, or they silently go missing from the built wheel.",
         "Forgetting to include non-Python files in package data is the classic reason a wheel works only from "
         "the repository."),
        ("Lock files record the exact resolved versions and hashes, so that every machine installs the same "
         "thing.", "Hashes in a lock file guard against a package being replaced upstream between installs."),
        ("Semantic versioning tells users what to expect: breaking changes bump the major version.",
         "Following semantic versioning lets downstream projects choose safe version ranges."),
    ),
    changes=("Migrated from setup.py to pyproject.toml with the hatchling backend.",
             "Templates are now shipped as package data in the wheel.",
             "Loosened the upper bound on the HTTP client dependency.",
             "Published wheels for Python 3.12 and 3.13."),
    snippets=('''```toml
[project]
name = "larkspur"
version = "2.4.0"
requires-python = ">=3.10"
dependencies = ["httpx>=0.25,<1", "pydantic>=2"]
```''', '''```bash
python -m build
python -m pip install dist/*.whl
python -c "import larkspur; print(larkspur.__version__)"
```'''),
    files=("pyproject.toml", "MANIFEST.in", "requirements.lock"),
)

CI_FLAKES = Topic(
    name="ci_flakiness",
    subjects=("flaky CI builds", "intermittent test failures", "test isolation", "slow continuous integration",
              "retrying flaky tests"),
    questions=("A test fails about once in fifty CI runs and never locally. Where do we start?",
               "Is automatically rerunning failed tests a good idea?", "How do we make our CI faster without "
               "dropping coverage?"),
    facts=(
        ("A flaky test passes and fails on the same code, and each flake teaches the team to ignore red builds.",
         "The real cost of a flaky test is trust: once people expect random failures, they stop reading them."),
        ("Common causes are shared state between tests, dependence on test order, real clocks, network calls and "
         "race conditions.", "Most flakes trace back to order dependence, wall-clock time, the network or "
         "threads racing each other."),
        ("Running the suite in random order with a plugin such as `pytest-randomly` surfaces hidden order "
         "dependence.", "Shuffling test order on every run exposes tests that silently rely on a neighbour."),
        ("Automatic reruns hide flakes rather than fix them; if used, they should be tracked and reported.",
         "Rerunning failures keeps the pipeline green but buries the signal, so log every rerun."),
        ("Freezing time with a fake clock removes a whole class of failures around midnight, month ends and "
         "daylight saving changes.", "Tests that read the real clock tend to break at midnight or on the last "
         "day of a month; inject a clock instead."),
        ("Caching dependencies and splitting the suite across parallel jobs are the cheapest ways to speed up "
         "CI.", "Dependency caching and test sharding usually cut CI time far more than micro-optimising tests."),
        ("Quarantining a flaky test with an owner and a deadline is better than deleting it or letting it fail "
         "randomly.", "A quarantine list with named owners keeps flaky tests visible until someone fixes them."),
    ),
    changes=("Tests now run in random order on CI; the seed is printed for reproduction.",
             "Quarantined {n} flaky tests, each with an owner and a tracking issue.",
             "CI caches the pip download directory, cutting build time by about a third.",
             "Replaced real sleeps in integration tests with a fake clock."),
    snippets=('''```yaml
- uses: actions/cache@v4
  with:
    path: ~/.cache/pip
    key: pip-${{ hashFiles('requirements.lock') }}
- run: pytest -p randomly -n auto
```''', '''```python
def test_invoice_due_date(frozen_clock):
    frozen_clock.set("2024-01-31T23:59:00")
    assert invoice_due(days=1).isoformat() == "2024-02-01"
```'''),
    files=(".github/workflows/ci.yml", "tests/test_billing.py"),
)

MIGRATIONS = Topic(
    name="db_migrations",
    subjects=("database migrations", "schema changes without downtime", "Alembic migrations",
              "backfilling columns", "rolling back a migration"),
    questions=("How do we rename a column without taking the site down?",
               "Should migrations run automatically on deploy?", "Our migration locked a big table for ten "
               "minutes. What should we have done?"),
    facts=(
        ("A migration is a versioned, ordered change to the database schema, kept in the repository next to the "
         "code that needs it.", "Migrations put schema changes under version control, applied in order on every "
         "environment."),
        ("Zero-downtime changes follow expand and contract: add the new structure, write to both, backfill, "
         "switch reads, then remove the old one.", "The safe pattern for renames is expand, migrate, contract, "
         "spread over several deploys."),
        ("Adding a column with a default or an index on a large table can lock it; many databases offer "
         "concurrent or online variants.", "On big tables, prefer concurrent index creation and nullable columns "
         "to avoid long locks."),
        ("Backfills should run in small batches outside the migration itself, so a failure does not roll back "
         "hours of work.", "Large data backfills belong in a batched background job, not in the schema migration."),
        ("Every migration should be tested against a copy of production-sized data before it ships.",
         "Timing a migration on realistic data volumes is the only way to know how long it will lock things."),
        ("Down migrations are often untested; many teams prefer rolling forward with a new fix instead.",
         "Rollback scripts rot because nobody runs them; rolling forward is usually more reliable."),
        ("Tools such as Alembic or Django migrations generate the boilerplate, but the generated operations "
         "still deserve review.", "Autogenerated migrations are a draft, not a finished change; read them "
         "before merging."),
    ),
    changes=("Indexes on large tables are now created concurrently.",
             "Split the column rename into expand and contract steps over two releases.",
             "Migrations now run in a separate deploy step with a lock timeout of {n} seconds.",
             "Backfill of the `created_by` column moved to a batched background job."),
    snippets=('''```python
def upgrade():
    op.add_column("orders", sa.Column("customer_ref", sa.String(64), nullable=True))
    op.create_index("ix_orders_customer_ref", "orders", ["customer_ref"], postgresql_concurrently=True)
```''', '''```sql
SET lock_timeout = '5s';
ALTER TABLE invoices ADD COLUMN paid_at timestamptz;
```'''),
    files=("migrations/versions/add_customer_ref.py", "db/schema.sql"),
)

FORMATTING = Topic(
    name="formatting",
    subjects=("automatic code formatting", "linters and formatters", "code style debates", "pre-commit hooks",
              "import sorting"),
    questions=("Is it worth reformatting the whole codebase in one commit?", "Black or ruff format?",
               "How do we stop style comments from taking over code review?"),
    facts=(
        ("An automatic formatter ends style debates by making the choice once, for everyone, in configuration.",
         "The main benefit of a formatter is social: nobody argues about commas in review any more."),
        ("Reformatting a whole repository in one commit is fine if that commit is listed in "
         "`.git-blame-ignore-revs`, so blame still points at real changes.", "A single bulk formatting commit, "
         "added to the blame ignore file, keeps history readable."),
        ("Linters catch likely bugs such as unused variables or shadowed names, which formatters deliberately "
         "leave alone.", "Formatters change layout; linters find suspicious code. Most teams want both."),
        ("Pre-commit hooks run the formatter before each commit, so unformatted code never reaches review.",
         "Running the formatter in a pre-commit hook catches style issues on the developer's machine."),
        ("CI should check formatting too, since hooks can be skipped locally.", "A formatting check in CI is the "
         "backstop for contributors who never installed the hooks."),
        ("Sorted, grouped imports make diffs smaller and merge conflicts rarer.", "Consistent import ordering is "
         "a small thing that removes a surprising number of merge conflicts."),
        ("Line length is the one setting people still argue about; pick a number and move on.",
         "Teams tend to spend far too long choosing a maximum line length."),
    ),
    changes=("Adopted ruff for linting and formatting; the old flake8 config is removed.",
             "Added a pre-commit configuration with the formatter and import sorting.",
             "CI now fails on unformatted files.", "Raised the maximum line length to 100 characters."),
    snippets=('''```toml
[tool.ruff]
line-length = 100

[tool.ruff.lint]
select = ["E", "F", "I", "B"]
```''', '''```yaml
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.4.4
    hooks:
      - id: ruff
      - id: ruff-format
```'''),
    files=(".pre-commit-config.yaml", "pyproject.toml"),
)

RETRIES = Topic(
    name="retries",
    subjects=("retries and backoff", "timeouts", "idempotent requests", "circuit breakers", "handling transient "
              "network errors"),
    questions=("How many times should a client retry a failed HTTP request?", "What is jitter and why do people "
               "add it to backoff?", "Our retries made an outage worse. How?"),
    facts=(
        ("Retries help with transient failures but multiply load when the failure is not transient.",
         "A retry is a bet that the next attempt will succeed; during an outage that bet just adds traffic."),
        ("Exponential backoff waits longer after each failure, and random jitter keeps clients from retrying in "
         "lockstep.", "Backing off exponentially with jitter spreads retries out so they do not arrive as a wave."),
        ("Only idempotent operations are safe to retry blindly; others need an idempotency key.",
         "Retrying a payment without an idempotency key risks charging someone twice."),
        ("Every network call needs a timeout; the default in many libraries is to wait forever.",
         "Missing timeouts are a common cause of threads piling up behind one slow dependency."),
        ("A circuit breaker stops calling a failing dependency for a while, giving it room to recover.",
         "Circuit breakers fail fast once a dependency looks unhealthy, instead of queueing doomed requests."),
        ("Retry budgets cap the share of traffic that may be retries, preventing retry storms.",
         "Limiting retries to a small fraction of total requests keeps one bad minute from becoming an hour."),
        ("Retries should happen at one layer only; retrying at every layer multiplies attempts.",
         "Three layers that each retry three times turn one failure into twenty-seven calls."),
    ),
    changes=("The HTTP client now uses exponential backoff with full jitter, at most {n} attempts.",
             "Added default timeouts of 10 seconds to all outbound requests.",
             "Payments API calls now send an idempotency key.", "Introduced a circuit breaker around the "
             "search service."),
    snippets=('''```python
for attempt in range(5):
    try:
        return client.get(url, timeout=10)
    except TransientError:
        time.sleep(min(30, 2 ** attempt) * random.random())
raise ServiceUnavailable(url)
```''',),
    files=("clients/http.py", "payments/api.py"),
)

CONFIG = Topic(
    name="configuration",
    subjects=("configuration management", "environment variables", "feature flags", "config validation",
              "secrets in configuration"),
    questions=("Environment variables or a config file?", "How do we stop feature flags from piling up forever?",
               "A typo in a config key silently disabled a feature. How do we prevent that?"),
    facts=(
        ("Configuration that differs between deploys belongs in the environment, not in the code.",
         "Keeping deploy-specific settings out of the codebase lets one build run everywhere."),
        ("Validating configuration at startup, for example with a pydantic model, turns typos into clear errors "
         "instead of silent defaults.", "Parsing settings into a typed model at startup makes a misspelled key "
         "fail loudly and early."),
        ("Feature flags decouple deploying code from releasing a feature, but every flag is a branch someone must "
         "eventually delete.", "Flags are great for gradual rollouts and terrible when nobody removes them."),
        ("Secrets should come from a secret manager, never from files committed to the repository.",
         "Committing credentials, even to a private repository, is a leak waiting to happen."),
        ("Printing the effective configuration at startup, with secrets masked, saves hours of debugging.",
         "Logging the resolved settings when a service starts answers the question of what it was actually "
         "running with."),
        ("Layered configuration, defaults then file then environment, is easy to reason about if the order is "
         "documented.", "Most config systems merge defaults, files and environment variables; document which "
         "wins."),
    ),
    changes=("Settings are now validated at startup; unknown keys are an error.",
             "Removed {n} feature flags that had been fully rolled out.",
             "The effective configuration is logged at startup with secrets masked.",
             "Database credentials now come from the secret manager."),
    snippets=('''```python
class Settings(BaseSettings):
    database_url: str
    cache_ttl_seconds: int = 300
    enable_search: bool = False

settings = Settings()  # unknown or malformed values fail here, at startup
```''',),
    files=("app/settings.py", "deploy/values.yaml"),
)

TOPICS = (CACHING, LOGGING, PACKAGING, CI_FLAKES, MIGRATIONS, FORMATTING, RETRIES, CONFIG)
