"""``python -m demo.space push DIR OWNER/NAME``: upload a built bundle to a Hugging Face Space.

Creates the Space if it does not exist (Gradio SDK, the hardware asked for), then sends the folder as
ONE commit through huggingface_hub: no git history goes up, so nothing committed before can block the
push, and files a previous push left in the Space that the bundle no longer has are deleted in the
same commit. The token is the usual one: ``hf auth login`` or $HF_TOKEN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from huggingface_hub import HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError, HFValidationError
from huggingface_hub.utils import validate_repo_id

from demo.space.build import HARDWARE, IGNORED, SpaceError, family, files_of, front_matter, problems

SPACES_URL = "https://huggingface.co/spaces/"


@dataclass(frozen=True)
class Sent:
    repo_id: str
    url: str
    hardware: str
    files: int
    bytes: int


def check_repo_id(repo_id: str) -> None:
    if repo_id.count("/") != 1:
        raise SpaceError(f"the Space must be named OWNER/NAME (your user or organisation, then the Space), "
                         f"got {repo_id!r}")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as e:
        raise SpaceError(f"{repo_id!r} is not a valid Space name: {e}") from None


def check_folder(folder: Path, hardware: str | None) -> str:
    """The hardware to ask for: ``hardware`` or the one the bundle was built for; they must agree."""
    if not folder.is_dir():
        raise SpaceError(f"{folder} is not a folder: build it first with `python -m demo.space build {folder}`")
    built_for = front_matter(folder).get("suggested_hardware")
    if built_for not in HARDWARE:
        raise SpaceError(f"{folder} is not a bundle from `python -m demo.space build` (its README.md has no "
                         f"suggested_hardware of {', '.join(HARDWARE)})")
    found = problems(folder)
    if found:
        raise SpaceError(f"{folder} is not fit to push: " + "; ".join(found))
    hardware = hardware or built_for
    if family(hardware) != family(built_for):
        raise SpaceError(f"{folder} was built for {built_for}; its requirements do not fit {hardware}: "
                         f"rebuild it with --hardware {hardware}")
    return hardware


def push(folder: str | Path, repo_id: str, hardware: str | None = None, private: bool = False,
         api: HfApi | None = None, say=print) -> Sent:
    """Create the Space if need be and upload ``folder`` as one commit; ``api`` replaces the Hub client
    (the tests pass a recorder)."""
    folder = Path(folder)
    check_repo_id(repo_id)
    hardware = check_folder(folder, hardware)
    if api is None:
        token = get_token()
        if not token:
            raise SpaceError("no Hugging Face token: run `hf auth login`, or set HF_TOKEN to a token with "
                             "write access (https://huggingface.co/settings/tokens)")
        api = HfApi(token=token)
    files = files_of(folder)
    size = sum((folder / f).stat().st_size for f in files)
    try:
        api.create_repo(repo_id, repo_type="space", space_sdk="gradio", space_hardware=hardware,
                        private=private, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), repo_type="space", delete_patterns="*",
                          ignore_patterns=list(IGNORED),
                          commit_message=f"Phase collapse demo: {len(files)} files ({hardware})")
    except HfHubHTTPError as e:
        raise SpaceError(f"the Hub refused: {e}") from None
    except (httpx.HTTPError, OSError) as e:
        raise SpaceError(f"could not reach the Hugging Face Hub: {e}") from None
    sent = Sent(repo_id, SPACES_URL + repo_id, hardware, len(files), size)
    say(f"sent {sent.files} files, {sent.bytes} bytes ({sent.bytes / 2**20:.1f} MB), in one commit to "
        f"{repo_id} (hardware {hardware}{', private' if private else ''})")
    say(f"the Space builds and starts now: {sent.url}")
    return sent
