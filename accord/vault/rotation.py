"""Master key rotation: re-wrap every data key in the key store under a new master key, without
touching the encrypted data.

Each key file is re-wrapped on its own and replaced atomically (``keys.rewrap_key_file``), so a
rotation stopped at any moment leaves every file wrapped under either the old key or the new
one, and each file names which. Readers pick the master key by that id from the key ring, so
while both keys are configured (the new one as ``ACCORD_MASTER_KEY_FILE``, the old one in
``ACCORD_MASTER_KEY_PREVIOUS_FILES``) every object stays readable during, and after, an
interrupted rotation. Running it again skips the files already done.

Every key file is re-wrapped: the objects' data keys, and the agreements' pseudonymisation keys
in the key store's ``pseudonym/`` folder (``keys.key_files``). Those are re-wrapped, never
changed, so no pseudonym changes with the master key.

A file that cannot be re-wrapped (damaged, or wrapped under a key not given) is left as it is
and reported; the rest carry on. One audit event records the rotation and its counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome

from . import keys
from .exceptions import VaultConfigurationError

ACTION = "vault.master_key.rotated"


@dataclass
class RotationResult:
    new_key_id: str
    old_key_ids: list[str]
    rewrapped: int = 0
    already_done: int = 0
    gone: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key file name, reason)
    stopped_early: bool = False

    @property
    def complete(self) -> bool:
        return not self.failed and not self.stopped_early


class NothingToRotateWith(VaultConfigurationError):
    """The keys given cannot do the rotation; nothing was changed."""


def rotate_master_key(
    *,
    by: Actor,
    new: keys.MasterKey,
    old: Iterable[keys.MasterKey],
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RotationResult:
    """Re-wrap every key file not yet under ``new`` from whichever ``old`` key wrapped it.

    ``limit`` stops after that many re-wraps (the rest are left for a later run).
    ``progress(done, total)`` is called after each file. Records one ``vault.master_key.rotated``
    audit event with the counts, even when some files failed."""
    old_ring = {key.id: key for key in old if key.id != new.id}
    files = list(keys.key_files())
    result = RotationResult(new_key_id=new.id, old_key_ids=list(old_ring))
    if not old_ring and files:
        raise NothingToRotateWith(
            "No old master key was given, or it is the same as the new one: give the key the "
            "vault's keys are wrapped under now. Nothing was changed."
        )
    _refuse_a_wrong_old_key(files, new=new, old=old_ring)
    try:
        for done, path in enumerate(files, start=1):
            if limit is not None and result.rewrapped >= limit:
                result.stopped_early = True
                break
            try:
                outcome = keys.rewrap_key_file(path, new=new, old=old_ring)
            except keys.RewrapFailed as exc:
                result.failed.append((_name(path), str(exc)))
            except OSError as exc:
                result.failed.append((_name(path), f"it could not be rewritten ({exc.strerror})"))
            else:
                if outcome == keys.RewrapOutcome.REWRAPPED:
                    result.rewrapped += 1
                elif outcome == keys.RewrapOutcome.ALREADY_DONE:
                    result.already_done += 1
                else:
                    result.gone += 1
            if progress is not None:
                progress(done, len(files))
    except BaseException:
        result.stopped_early = True  # interrupted: what was done is recorded, the rest waits
        raise
    finally:
        _record(by, result)
    return result


def _name(path: Path) -> str:
    """The key file's name in the key store: ``<id>.key``, or ``pseudonym/<id>.key`` for an
    agreement's pseudonymisation key."""
    try:
        return str(path.relative_to(keys.keystore_dir()))
    except ValueError:
        return path.name


def _refuse_a_wrong_old_key(
    files: list[Path], *, new: keys.MasterKey, old: dict[str, keys.MasterKey]
) -> None:
    """When files still need re-wrapping but none of them is under any old key given, the old
    key is wrong: say so before changing anything."""
    pending: set[str] = set()
    for path in files:
        try:
            stored = str(keys.read_key_document(path)["master_key_id"])
        except (keys.RewrapFailed, FileNotFoundError):
            continue
        if stored in old:
            return
        if stored != new.id:
            pending.add(stored)
    if pending:
        raise NothingToRotateWith(
            f"None of the key files is wrapped under the old master key given "
            f"({', '.join(old)}); the files still to re-wrap are wrapped under "
            f"{', '.join(sorted(pending))}. Give that key instead. Nothing was changed."
        )


def _record(by: Actor, result: RotationResult) -> None:
    record(
        by=by,
        action=ACTION,
        target="vault:key-store",
        outcome=Outcome.SUCCESS if result.complete else Outcome.FAILED,
        reason="" if result.complete else _incomplete_reason(result),
        details={
            "new_master_key_id": result.new_key_id,
            "old_master_key_ids": result.old_key_ids,
            "rewrapped": result.rewrapped,
            "already_done": result.already_done,
            "deleted_meanwhile": result.gone,
            "failed": len(result.failed),
            "failures": [f"{name}: {reason}" for name, reason in result.failed[:50]],
            "stopped_early": result.stopped_early,
        },
    )


def _incomplete_reason(result: RotationResult) -> str:
    if result.failed:
        return f"{len(result.failed)} key file(s) could not be re-wrapped"
    return "stopped before every key file was re-wrapped"
