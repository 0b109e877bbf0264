"""emscope: build narrow datasets, fine-tune with defenses, evaluate and monitor emergent misalignment."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("emscope")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
