"""The JupiterOne target: plans read J1 with J1QL, applies run one DIFF sync job."""

from __future__ import annotations

import re
from collections.abc import Mapping

from j1gitops.inventory.model import EntityRef
from j1gitops.targets.base import ApplyResult, DesiredState, LiveState, Progress
from j1gitops.targets.jupiterone.client import ApiClient
from j1gitops.targets.jupiterone.query import ScopeReader
from j1gitops.targets.jupiterone.settings import Settings
from j1gitops.targets.jupiterone.sync import DiffSync

# Job counters reported in the result, such as numEntitiesCreated. Other keys
# of the job object are left out, and so are names too long for one message.
_COUNTER_NAME = re.compile(r"num[A-Za-z]{1,100}")


class JupiterOneTarget:
    """A JupiterOne account (or the emulator), reached over HTTP.

    ``client_options`` go to ``ApiClient`` (timeouts, retries, backoff),
    ``reader_options`` to ``ScopeReader`` (deferred mode, polling) and
    ``sync_options`` to ``DiffSync`` (batch size, polling, time limit).
    """

    name = "jupiterone"

    def __init__(
        self,
        settings: Settings,
        *,
        client_options: dict | None = None,
        reader_options: dict | None = None,
        sync_options: dict | None = None,
    ):
        self.settings = settings
        self.client = ApiClient(settings, **(client_options or {}))
        self.reader = ScopeReader(self.client, **(reader_options or {}))
        self.sync_options = sync_options or {}

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        api_base_url: str | None = None,
        graphql_url: str | None = None,
        **options,
    ) -> JupiterOneTarget:
        """Build the target from J1_API_KEY, J1_ACCOUNT_ID, J1_REGION and the URLs."""
        settings = Settings.from_environment(
            environ, api_base_url=api_base_url, graphql_url=graphql_url
        )
        return cls(settings, **options)

    def read(self, scope: str) -> LiveState:
        entities, relationships = self.reader.read_scope(scope)
        return LiveState(entities, relationships)

    def missing_external(self, refs: list[EntityRef]) -> list[EntityRef]:
        return self.reader.find_missing(refs)

    def apply(
        self, scope: str, desired: DesiredState, progress: Progress
    ) -> ApplyResult:
        sync = DiffSync(self.client, progress=progress, **self.sync_options)
        job = sync.run(scope, desired.entities, desired.relationships)
        counts = {
            name: value
            for name, value in job.items()
            if _COUNTER_NAME.fullmatch(name)
            and isinstance(value, int)
            and not isinstance(value, bool)
        }
        status = self.client.server_text(job.get("status", "UNKNOWN"))
        result = ApplyResult(status, counts, job_id=job.get("id"))
        result.errors = _job_errors(result)
        return result

    def close(self) -> None:
        self.client.close()


def _job_errors(result: ApplyResult) -> list[str]:
    errors = []
    if result.status != "FINISHED":
        errors.append(
            f"sync job {result.job_id} ended with status {result.status}, not "
            "FINISHED; run plan to see what J1 holds now, then apply again"
        )
    for name, value in sorted(result.counts.items()):
        if name.endswith("Errors") and value:
            errors.append(f"J1 counted {value} {_describe_counter(name)} ({name})")
    return errors


def _describe_counter(name: str) -> str:
    """Turn ``numRelationshipCreateErrors`` into "relationship create errors"."""
    words = []
    for char in name.removeprefix("num"):
        if char.isupper() and words:
            words.append(" ")
        words.append(char.lower())
    text = "".join(words)
    if text.startswith("relationship create"):
        text += ", usually a relationship end that does not exist in J1"
    return text
